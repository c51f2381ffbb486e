//! An addon for tests only, never shipped: it drives the failure paths of
//! `ha-napi` through a real node (test/native/napi-layer.test.ts builds and
//! loads it), which the addon proper cannot do because it has no panics to
//! offer. Each function is one situation the layer must survive.

use ha_napi::sys::{napi_create_external, napi_value};
use ha_napi::{Args, Env, Error, Exports, Result, Value};
use std::ptr::null_mut;
use std::sync::Arc;
use std::time::Duration;

ha_napi::addon!(&[register]);

fn register(exports: &Exports) -> Result<()> {
    // Its panics are on purpose and reach JavaScript through the layer; the
    // default hook would print each with a backtrace. (The hook is this
    // library's own: each addon links its own copy of std.)
    std::panic::set_hook(Box::new(|_| {}));
    exports.function("panic", panic)?;
    exports.function("panicWithoutMessage", panic_without_message)?;
    exports.function("settleLater", settle_later)?;
    exports.function("counter", counter)?;
    exports.function("counterValue", counter_value)?;
    exports.function("otherHandle", other_handle)?;
    exports.function("foreignExternal", foreign_external)?;
    exports.function("panickyHandle", panicky_handle)
}

fn panic<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let message = env.to_string(args.get(0), "message")?;
    panic!("{message}");
}

fn panic_without_message<'e>(_: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
    std::panic::panic_any(42u32);
}

/// What a promise of `settleLater` is settled with, from another thread.
enum Outcome {
    Number(f64),
    /// The conversion on the JavaScript thread panics.
    PanicInConversion,
    /// The conversion on the JavaScript thread returns an error.
    FailInConversion,
}

fn outcome_value<'e>(env: Env<'e>, outcome: Outcome) -> Result<Value<'e>> {
    match outcome {
        Outcome::Number(n) => env.number(n),
        Outcome::PanicInConversion => panic!("conversion panicked"),
        Outcome::FailInConversion => {
            Err(Error::with_code("ERR_TEST_CONVERSION", "conversion failed"))
        }
    }
}

/// `settleLater(mode, delayMs)`: a promise settled from a thread of its own
/// after `delayMs`. Modes: `resolve` (with 42), `reject`, `drop` (the
/// completer is dropped unused), `panic-in-thread` (the thread panics with
/// the completer), `panic-in-conversion`, `fail-in-conversion`.
fn settle_later<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let mode = env.to_string(args.get(0), "mode")?;
    let delay = Duration::from_millis(env.to_u64(args.get(1), "delayMs")?);
    if ![
        "resolve",
        "reject",
        "drop",
        "panic-in-thread",
        "panic-in-conversion",
        "fail-in-conversion",
    ]
    .contains(&mode.as_str())
    {
        return Err(Error::with_code(
            "ERR_INVALID_ARG_VALUE",
            format!("unknown mode {mode}"),
        ));
    }
    let (promise, completer) = env.promise(outcome_value)?;
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        match mode.as_str() {
            "resolve" => completer.resolve(Outcome::Number(42.0)),
            "reject" => completer.reject(Error::with_code("ERR_TEST", "rejected on purpose")),
            "drop" => drop(completer),
            "panic-in-thread" => {
                let _owned = completer;
                panic!("worker thread panicked");
            }
            "panic-in-conversion" => completer.resolve(Outcome::PanicInConversion),
            _ => completer.resolve(Outcome::FailInConversion),
        }
    });
    Ok(promise)
}

struct Counter(f64);
struct Other;

fn counter<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    env.external(Arc::new(Counter(env.to_f64(args.get(0), "start")?)))
}

fn counter_value<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    env.number(env.get_external::<Counter>(args.get(0), "counter")?.0)
}

fn other_handle<'e>(env: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
    env.external(Arc::new(Other))
}

/// An external as another addon would make it: untagged, with data that is
/// not a valid pointer at all. Reading it would crash; checking it must not.
fn foreign_external<'e>(env: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
    let mut out: napi_value = null_mut();
    // SAFETY: live env and out-pointer. Node stores the data pointer without
    // reading it, and there is no finalizer that could.
    let status = unsafe {
        napi_create_external(
            env.raw(),
            0x1 as *mut _,
            noop_finalize,
            null_mut(),
            &mut out,
        )
    };
    if status != ha_napi::sys::NAPI_OK || out.is_null() {
        return Err(Error::new("napi_create_external failed"));
    }
    // SAFETY: `out` was just returned by node for this call.
    Ok(unsafe { Value::from_raw(env, out) })
}

/// The foreign external owns nothing.
unsafe extern "C" fn noop_finalize(
    _env: ha_napi::sys::napi_env,
    _data: *mut std::os::raw::c_void,
    _hint: *mut std::os::raw::c_void,
) {
}

/// Panics when it is released, which happens in a finalizer.
struct Panicky;

impl Drop for Panicky {
    fn drop(&mut self) {
        panic!("Panicky dropped");
    }
}

fn panicky_handle<'e>(env: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
    env.external(Arc::new(Panicky))
}
