//! Where node calls into Rust: function calls (`trampoline`) and module
//! registration, plus the panic handling every `extern "C"` function of the
//! layer uses.
//!
//! A panic must not unwind into node's C++ frames: that is undefined
//! behaviour before Rust 1.81 (the workspace supports 1.75) and an abort
//! after. So each `extern "C"` function runs its body in
//! [`abort_on_unwind`] and catches panics inside with [`catch_panic`],
//! turning them into a JavaScript error, a rejection or a line on stderr.
//! The abort is the last resort should the handling itself panic.

use crate::env::{with_env, Env, Value};
use crate::error::{Error, Result};
use crate::sys::*;
use std::any::Any;
use std::io::Write;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

/// Runs `f`, returning the message of a panic instead of unwinding. The
/// panic's payload is dropped under a guard of its own: one whose drop
/// panics again is leaked.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> std::result::Result<R, String> {
    // AssertUnwindSafe: after a panic, callers only report it; they do not
    // look at what `f` may have left half-updated.
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(&*payload);
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
        message
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Writes a line to stderr; for failures nobody else can be told about.
/// Never panics (unlike `eprintln!`).
pub(crate) fn report(message: &str) {
    let _ = writeln!(std::io::stderr(), "ha-napi: {message}");
}

/// Aborts the process if it is dropped during unwinding.
struct AbortOnUnwind(&'static str);

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        report(&format!(
            "a panic escaped while {}; aborting rather than unwinding into node",
            self.0
        ));
        std::process::abort();
    }
}

/// Runs the body of an `extern "C"` function: a panic that `f` did not
/// catch aborts the process here instead of unwinding into C.
pub(crate) fn abort_on_unwind<R>(what: &'static str, f: impl FnOnce() -> R) -> R {
    let guard = AbortOnUnwind(what);
    let result = f();
    std::mem::forget(guard);
    result
}

/// The signature of every function an addon exports.
pub type Callback = for<'e> fn(Env<'e>, &Args<'e>) -> Result<Value<'e>>;

/// The arguments of a call; missing ones read as `undefined`.
pub struct Args<'e> {
    values: Vec<Value<'e>>,
    undefined: Value<'e>,
}

impl<'e> Args<'e> {
    pub fn get(&self, index: usize) -> Value<'e> {
        self.values.get(index).copied().unwrap_or(self.undefined)
    }
}

/// More arguments than any function takes are ignored.
const MAX_ARGS: usize = 8;

/// What node calls for every function made by [`Exports::function`]; the
/// function's data is the [`Callback`] to run.
///
/// # Safety
/// Only node calls it, for a function made by [`Exports::function`].
unsafe extern "C" fn trampoline(raw_env: napi_env, info: napi_callback_info) -> napi_value {
    abort_on_unwind("calling a native function", || {
        // SAFETY: node passes the live env of this call, on the JS thread,
        // inside the call's handle scope.
        unsafe { with_env(raw_env, |env| call(env, info)) }
    })
}

fn call(env: Env<'_>, info: napi_callback_info) -> napi_value {
    let mut argc = MAX_ARGS;
    let mut argv = [null_mut(); MAX_ARGS];
    let mut data: *mut c_void = null_mut();
    // SAFETY: `info` is this call's; argv has room for MAX_ARGS handles and
    // argc says so; `this` is not wanted; data is one pointer.
    let status = unsafe {
        napi_get_cb_info(
            env.raw(),
            info,
            &mut argc,
            argv.as_mut_ptr(),
            null_mut(),
            &mut data,
        )
    };
    if status != NAPI_OK || data.is_null() {
        env.throw(Error::new("Node-API get_cb_info failed"));
        return null_mut();
    }
    // SAFETY: the trampoline is only registered by Exports::function, whose
    // data is a Callback fn pointer; fn and data pointers have the same size
    // and representation on every platform node supports.
    let callback = unsafe { std::mem::transmute::<*mut c_void, Callback>(data) };
    let args = Args {
        values: argv[..argc.min(MAX_ARGS)]
            .iter()
            .map(|&raw| Value::new(raw))
            .collect(),
        undefined: env.undefined(),
    };
    match catch_panic(|| callback(env, &args)) {
        Ok(Ok(value)) => value.raw(),
        Ok(Err(e)) => {
            env.throw(e);
            null_mut()
        }
        Err(message) => {
            env.throw(Error::from_panic(&message));
            null_mut()
        }
    }
}

/// The module's exports object, filled by each module's `register`.
pub struct Exports<'e> {
    env: Env<'e>,
    object: Value<'e>,
}

impl<'e> Exports<'e> {
    pub fn env(&self) -> Env<'e> {
        self.env
    }

    pub fn function(&self, name: &str, callback: Callback) -> Result<()> {
        // SAFETY: name pointer/length describe `name`, copied by node; the
        // fn pointer travels as the function's data and comes back, as the
        // same type, in `trampoline`.
        let f = self.env.make("create_function", |out| unsafe {
            napi_create_function(
                self.env.raw(),
                name.as_ptr().cast(),
                name.len(),
                trampoline,
                callback as *mut c_void,
                out,
            )
        })?;
        self.env.set(self.object, name, f)
    }

    pub fn value(&self, name: &str, value: Value<'e>) -> Result<()> {
        self.env.set(self.object, name, value)
    }
}

/// Registers one module's functions and values.
pub type Register = for<'e> fn(&Exports<'e>) -> Result<()>;

/// Fills `exports` from every module; throws the first failure. Use
/// [`crate::addon!`] rather than calling it directly.
///
/// # Safety
/// `env` and `exports` must be the arguments node passed to
/// `napi_register_module_v1`, and this must run during that call.
pub unsafe fn register_module(
    env: napi_env,
    exports: napi_value,
    modules: &[Register],
) -> napi_value {
    abort_on_unwind("loading the addon", || {
        // SAFETY: per this function's contract, `env` is the live env of the
        // module load on the JS thread, in its handle scope.
        unsafe { with_env(env, |env| fill(env, exports, modules)) }
    })
}

fn fill(env: Env<'_>, exports: napi_value, modules: &[Register]) -> napi_value {
    let exports = Exports {
        env,
        object: Value::new(exports),
    };
    for register in modules {
        let failure = match catch_panic(|| register(&exports)) {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(message) => Error::new(format!("the addon failed to load: {message}")),
        };
        env.throw(failure);
        return null_mut();
    }
    exports.object.raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Node, Val};

    fn echo<'e>(_: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
        Ok(args.get(1))
    }

    fn refuse<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
        env.to_f64(args.get(0), "count").map(|_| env.undefined())
    }

    fn panics<'e>(_: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
        panic!("index out of bounds");
    }

    fn panics_without_message<'e>(_: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
        std::panic::panic_any(7u8);
    }

    /// A panic payload whose own drop panics.
    struct Nasty;
    impl Drop for Nasty {
        fn drop(&mut self) {
            panic!("payload dropped");
        }
    }

    fn panics_nastily<'e>(_: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
        std::panic::panic_any(Nasty);
    }

    fn reads_a_throwing_getter<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
        env.get(args.get(0), "boom")
    }

    fn claims_pending_without_exception<'e>(_: Env<'e>, _: &Args<'e>) -> Result<Value<'e>> {
        Err(Error::pending())
    }

    /// The exports object after registering `modules`, or the exception.
    fn load(node: &Node, modules: &[Register]) -> std::result::Result<napi_value, Val> {
        let exports = node.alloc(Val::Object(Vec::new()));
        // SAFETY: the fake env is live, and this is its "module load".
        let result = unsafe { register_module(node.env(), exports, modules) };
        match node.pending_exception() {
            Some(e) => {
                assert!(result.is_null());
                Err(e)
            }
            None => Ok(result),
        }
    }

    fn module(exports: &Exports) -> Result<()> {
        exports.function("echo", echo)?;
        exports.function("refuse", refuse)?;
        exports.function("panics", panics)?;
        exports.function("panicsWithoutMessage", panics_without_message)?;
        exports.function("panicsNastily", panics_nastily)?;
        exports.function("readsThrowingGetter", reads_a_throwing_getter)?;
        exports.function("claimsPending", claims_pending_without_exception)
    }

    fn function(node: &Node, exports: napi_value, name: &str) -> napi_value {
        let Val::Object(props) = node.value(exports) else {
            panic!("exports is no object")
        };
        let (_, i) = props.iter().find(|(k, _)| k == name).expect(name);
        (*i + 1) as napi_value
    }

    fn thrown(node: &Node, exports: napi_value, name: &str, args: &[napi_value]) -> Val {
        let result = node.call(function(node, exports, name), args);
        assert!(result.is_null(), "{name} returned a value");
        let e = node.pending_exception().expect("an exception");
        node.run(|env| env.take_exception().is_some());
        e
    }

    #[test]
    fn a_call_gets_its_arguments_and_missing_ones_read_as_undefined() {
        let node = Node::new();
        let exports = load(&node, &[module]).unwrap();
        let (a, b) = (
            node.alloc(Val::Number(1.0)),
            node.alloc(Val::Str("two".into())),
        );
        let echo = function(&node, exports, "echo");
        assert_eq!(node.value(node.call(echo, &[a, b])), Val::Str("two".into()));
        assert_eq!(node.value(node.call(echo, &[a])), Val::Undefined);
        let many = vec![a; MAX_ARGS + 3];
        assert_eq!(node.value(node.call(echo, &many)), Val::Number(1.0));
        node.assert_no_misuse();
    }

    #[test]
    fn an_error_is_thrown_with_its_code_and_kind() {
        let node = Node::new();
        let exports = load(&node, &[module]).unwrap();
        let text = node.alloc(Val::Str("x".into()));
        assert_eq!(
            thrown(&node, exports, "refuse", &[text]),
            Val::Error {
                type_error: true,
                code: Some("ERR_INVALID_ARG_TYPE".into()),
                message: "count must be a number, got a string".into(),
            }
        );
    }

    #[test]
    fn a_panic_becomes_a_javascript_error_instead_of_unwinding_into_node() {
        let node = Node::new();
        let exports = load(&node, &[module]).unwrap();
        assert_eq!(
            thrown(&node, exports, "panics", &[]),
            Val::Error {
                type_error: false,
                code: Some("ERR_NATIVE_PANIC".into()),
                message: "internal error in native code: index out of bounds".into(),
            }
        );
        let Val::Error { message, .. } = thrown(&node, exports, "panicsWithoutMessage", &[]) else {
            panic!("no error")
        };
        assert_eq!(message, "internal error in native code: unknown panic");
        // The payload's drop panics too: leaked, and still an error.
        let Val::Error { code, .. } = thrown(&node, exports, "panicsNastily", &[]) else {
            panic!("no error")
        };
        assert_eq!(code.as_deref(), Some("ERR_NATIVE_PANIC"));
        // And the function still works afterwards.
        assert_eq!(
            node.value(node.call(function(&node, exports, "echo"), &[])),
            Val::Undefined
        );
    }

    #[test]
    fn a_pending_javascript_exception_is_what_the_caller_sees() {
        let node = Node::new();
        let exports = load(&node, &[module]).unwrap();
        let getter = node.alloc(Val::ThrowingGetter("getter threw".into()));
        let object = node.alloc(Val::Object(vec![("boom".into(), getter as usize - 1)]));
        let Val::Error { message, .. } = thrown(&node, exports, "readsThrowingGetter", &[object])
        else {
            panic!("no error")
        };
        assert_eq!(message, "getter threw");
        // A pending error with no exception behind it still throws.
        let Val::Error { message, .. } = thrown(&node, exports, "claimsPending", &[]) else {
            panic!("no error")
        };
        assert_eq!(message, "a JavaScript exception is pending");
    }

    fn fails_to_register(_: &Exports) -> Result<()> {
        Err(Error::with_code("ERR_TEST", "cannot register"))
    }

    fn panics_in_register(_: &Exports) -> Result<()> {
        panic!("register panicked")
    }

    #[test]
    fn a_module_that_fails_or_panics_at_load_throws() {
        let node = Node::new();
        let Err(Val::Error { code, .. }) = load(&node, &[module, fails_to_register]) else {
            panic!("loaded")
        };
        assert_eq!(code.as_deref(), Some("ERR_TEST"));
        let node = Node::new();
        let Err(Val::Error { message, .. }) = load(&node, &[panics_in_register, module]) else {
            panic!("loaded")
        };
        assert_eq!(message, "the addon failed to load: register panicked");
    }

    #[test]
    fn catch_panic_returns_the_value_or_the_message() {
        assert_eq!(catch_panic(|| 5), Ok(5));
        assert_eq!(
            catch_panic(|| -> u8 { panic!("at {}", 3) }),
            Err("at 3".to_string())
        );
    }

    /// Runs in a child process (see the test below): a panic escaping
    /// `abort_on_unwind` must abort, never unwind past it.
    #[test]
    #[ignore = "run by an_escaping_panic_aborts_the_process, in a child process"]
    fn escaping_panic_child() {
        abort_on_unwind("testing", || panic!("escaped"));
    }

    #[test]
    fn an_escaping_panic_aborts_the_process() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "boundary::tests::escaping_panic_child",
                "--test-threads=1",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(output.status.signal(), Some(6), "not aborted: {stderr}");
        assert!(
            stderr.contains("a panic escaped while testing; aborting"),
            "{stderr}"
        );
    }
}
