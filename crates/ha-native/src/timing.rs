//! The timing profiles as the Rust side read them (share/timing-profiles.cfg,
//! compiled in), so the TypeScript side can check that both agree.

use ha_napi::{Args, Env, Exports, Result, Value};
use std::time::Duration;

pub fn register(exports: &Exports) -> Result<()> {
    exports.function("timingProfiles", profiles)
}

fn ms<'e>(env: Env<'e>, d: Duration) -> Result<Value<'e>> {
    env.number(d.as_secs_f64() * 1e3)
}

/// `[{ name, lockLifetimeMs, clientTimeoutMs, ... }]`, in file order.
fn profiles<'e>(env: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
    let mut values = Vec::new();
    for p in ha_native_core::timing::profiles() {
        let o = env.object()?;
        env.set(o, "name", env.string(&p.name)?)?;
        for (key, d) in [
            ("lockLifetimeMs", p.lock_lifetime),
            ("clientTimeoutMs", p.client_timeout),
            ("muxTickMs", p.mux_tick),
            ("deviceTimeoutMs", p.device_timeout),
            ("marginMs", p.margin),
            ("lrmRoundMs", p.lrm_round),
            ("crmRoundMs", p.crm_round),
            ("lockRetryMs", p.lock_retry),
            ("storeTimeoutMs", p.store_timeout),
            ("heartbeatTimeoutMs", p.heartbeat_timeout),
            ("fenceDelayMs", p.fence_delay),
        ] {
            env.set(o, key, ms(env, d)?)?;
        }
        values.push(o);
    }
    env.array(&values)
}
