//! What the loader checks: the interface version and build details.

use ha_napi::{Args, Env, Exports, Result, Value};

/// Bumped whenever an exported function changes shape, so the loader can
/// refuse a stale build instead of failing on a call later.
pub const ABI_VERSION: f64 = 3.0;

pub fn register(exports: &Exports) -> Result<()> {
    let env = exports.env();
    exports.value("abiVersion", env.number(ABI_VERSION)?)?;
    exports.value("version", env.string(env!("CARGO_PKG_VERSION"))?)?;
    exports.function("monotonicNowMs", monotonic_now_ms)
}

/// CLOCK_MONOTONIC in milliseconds: the clock of `process.hrtime`.
fn monotonic_now_ms<'e>(env: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
    env.number(ha_native_core::monotonic_now_ns() as f64 / 1e6)
}
