//! The watchdog-mux client for the CRM and LRM. Calls block the JS thread
//! only for a local socket write (and, for a status query, the mux's
//! answer, which a healthy mux gives within microseconds).

use ha_napi::{Args, Env, Error, Exports, Result, Value};
use ha_native_core::mux::MuxClient;
use ha_native_core::watchdog::DeviceKind;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub fn register(exports: &Exports) -> Result<()> {
    let env = exports.env();
    exports.value(
        "defaultMuxSocketPath",
        env.string(ha_native_core::mux::DEFAULT_SOCKET_PATH)?,
    )?;
    exports.function("muxConnect", connect)?;
    exports.function("muxUpdate", update)?;
    exports.function("muxStatus", status)?;
    exports.function("muxClose", close)
}

/// `None` once closed. Dropped unclosed (garbage collected), the socket
/// closes without magic close, exactly as if the daemon had died.
struct Connection(Mutex<Option<MuxClient>>);

fn connection(env: Env, args: &Args) -> Result<Arc<Connection>> {
    env.get_external::<Connection>(args.get(0), "watchdog connection")
}

fn open(conn: &Connection) -> Result<MutexGuard<'_, Option<MuxClient>>> {
    let guard = conn.0.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        return Err(Error::with_code(
            "ERR_WATCHDOG_CLOSED",
            "the watchdog connection is already closed",
        ));
    }
    Ok(guard)
}

fn connect<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let path = env.to_string(args.get(0), "socketPath")?;
    let client = MuxClient::connect(Path::new(&path))
        .map_err(|e| Error::with_code("ERR_WATCHDOG_CONNECT", e.to_string()))?;
    env.external(Arc::new(Connection(Mutex::new(Some(client)))))
}

fn update<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let conn = connection(env, args)?;
    let mut guard = open(&conn)?;
    guard.as_mut().map(|c| c.update()).transpose()?;
    Ok(env.undefined())
}

fn status<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let conn = connection(env, args)?;
    let mut guard = open(&conn)?;
    let Some(status) = guard.as_mut().map(|c| c.status()).transpose()? else {
        return Ok(env.undefined());
    };
    let o = env.object()?;
    env.set(
        o,
        "remainingMs",
        env.number(status.remaining.as_secs_f64() * 1e3)?,
    )?;
    env.set(
        o,
        "timeoutMs",
        env.number(status.timeout.as_secs_f64() * 1e3)?,
    )?;
    env.set(o, "feeding", env.boolean(status.feeding)?)?;
    // Absent when the mux does not report them (an older version).
    if let Some(mux) = status.mux {
        env.set(o, "tickMs", env.number(mux.tick.as_secs_f64() * 1e3)?)?;
        env.set(
            o,
            "deviceTimeoutMs",
            env.number(mux.device_timeout.as_secs_f64() * 1e3)?,
        )?;
        if let Some(device) = mux.device {
            let kind = match device {
                DeviceKind::Real => "real",
                DeviceKind::Simulated => "simulated",
            };
            env.set(o, "device", env.string(kind)?)?;
        }
    }
    Ok(o)
}

fn close<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let conn = connection(env, args)?;
    let clean = env.to_bool(args.get(1), "clean")?;
    let client = open(&conn)?.take();
    client.map(|c| c.close(clean)).transpose()?;
    Ok(env.undefined())
}
