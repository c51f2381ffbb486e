//! Lease timing: leases cross as `{ acquiredAtMs, renewedAtMs, lifetimeMs }`
//! on the CLOCK_MONOTONIC millisecond scale of `monotonicNowMs`.

use ha_napi::{Args, Env, Error, Exports, Result, Value};
use ha_native_core::lease::{Lease, Mono};
use std::time::Duration;

pub fn register(exports: &Exports) -> Result<()> {
    exports.function("leaseAcquire", acquire)?;
    exports.function("leaseRenew", renew)?;
    exports.function("leaseExpiresInMs", expires_in)?;
    exports.function("leaseFeedDeadlineMs", feed_deadline)?;
    exports.function("leaseSafeToFeed", safe_to_feed)
}

fn mono(env: Env, v: Value, what: &str) -> Result<Mono> {
    Ok(Mono((ms(env, v, what)? * 1e6).round() as u64))
}

fn ms(env: Env, v: Value, what: &str) -> Result<f64> {
    let n = env.to_f64(v, what)?;
    if !n.is_finite() || n < 0.0 {
        return Err(Error::with_code(
            "ERR_OUT_OF_RANGE",
            format!("{what} must be a finite number >= 0, got {n}"),
        ));
    }
    Ok(n)
}

fn duration(env: Env, v: Value, what: &str) -> Result<Duration> {
    Ok(Duration::from_secs_f64(ms(env, v, what)? / 1e3))
}

fn to_ms(m: Mono) -> f64 {
    m.0 as f64 / 1e6
}

fn read_lease(env: Env, v: Value) -> Result<Lease> {
    Ok(Lease {
        acquired_at: mono(env, env.get(v, "acquiredAtMs")?, "lease.acquiredAtMs")?,
        renewed_at: mono(env, env.get(v, "renewedAtMs")?, "lease.renewedAtMs")?,
        lifetime: duration(env, env.get(v, "lifetimeMs")?, "lease.lifetimeMs")?,
    })
}

fn lease_value<'e>(env: Env<'e>, lease: &Lease) -> Result<Value<'e>> {
    let o = env.object()?;
    env.set(o, "acquiredAtMs", env.number(to_ms(lease.acquired_at))?)?;
    env.set(o, "renewedAtMs", env.number(to_ms(lease.renewed_at))?)?;
    env.set(
        o,
        "lifetimeMs",
        env.number(lease.lifetime.as_secs_f64() * 1e3)?,
    )?;
    Ok(o)
}

fn window(env: Env, v: Value) -> Result<Duration> {
    duration(env, v, "fenceWindowMs")
}

fn acquire<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let lease = Lease::acquire(
        mono(env, args.get(0), "requestedAtMs")?,
        duration(env, args.get(1), "lifetimeMs")?,
    );
    lease_value(env, &lease)
}

fn renew<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let lease = read_lease(env, args.get(0))?.renew(mono(env, args.get(1), "requestedAtMs")?);
    lease_value(env, &lease)
}

fn expires_in<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let ns = read_lease(env, args.get(0))?.expires_in_ns(mono(env, args.get(1), "nowMs")?);
    env.number(ns as f64 / 1e6)
}

fn feed_deadline<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let deadline = read_lease(env, args.get(0))?.feed_deadline(window(env, args.get(1))?);
    env.number(to_ms(deadline))
}

fn safe_to_feed<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let lease = read_lease(env, args.get(0))?;
    env.boolean(lease.safe_to_feed(mono(env, args.get(1), "nowMs")?, window(env, args.get(2))?))
}
