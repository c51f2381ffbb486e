//! A small safe layer over the hand-declared Node-API functions: values,
//! argument conversion with errors that name the argument, objects, arrays,
//! Float64Arrays, externals holding Rust data, and promises settled from
//! other threads. Modules of the addon use only this layer; all `unsafe` of
//! the crate is in this file and `sys.rs`.

pub mod sys;

use std::any::TypeId;
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::Arc;
use sys::*;

/// A JavaScript value, valid during the callback that produced it.
#[derive(Clone, Copy)]
pub struct Value(napi_value);

/// The environment of the current call; only usable on the JS thread.
#[derive(Clone, Copy)]
pub struct Env(napi_env);

/// An error to throw into JavaScript (or to reject a promise with).
#[derive(Debug)]
pub struct Error {
    message: String,
    code: Option<&'static str>,
    type_error: bool,
    /// A JavaScript exception is already pending; throw nothing more.
    pending: bool,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            code: None,
            type_error: false,
            pending: false,
        }
    }

    pub fn with_code(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code: Some(code),
            ..Error::new(message)
        }
    }

    pub fn type_error(message: impl Into<String>) -> Error {
        Error {
            code: Some("ERR_INVALID_ARG_TYPE"),
            type_error: true,
            ..Error::new(message)
        }
    }

    fn pending() -> Error {
        Error {
            pending: true,
            ..Error::new("a JavaScript exception is pending")
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The signature of every function a module exports.
pub type Callback = fn(Env, &Args) -> Result<Value>;

/// The arguments of a call; missing ones read as `undefined`.
pub struct Args {
    values: Vec<Value>,
    undefined: Value,
}

impl Args {
    pub fn get(&self, index: usize) -> Value {
        self.values.get(index).copied().unwrap_or(self.undefined)
    }
}

const MAX_ARGS: usize = 8;

fn type_name(kind: c_int) -> &'static str {
    match kind {
        NAPI_UNDEFINED => "undefined",
        NAPI_NULL => "null",
        NAPI_BOOLEAN => "a boolean",
        NAPI_NUMBER => "a number",
        NAPI_STRING => "a string",
        5 => "a symbol",
        NAPI_OBJECT => "an object",
        NAPI_FUNCTION => "a function",
        NAPI_EXTERNAL => "an external",
        9 => "a bigint",
        _ => "an unknown value",
    }
}

/// Objects handed to JavaScript as externals: the type id lets
/// [`Env::get_external`] refuse an external of another type.
#[repr(C)]
struct Tagged<T> {
    type_id: TypeId,
    value: Arc<T>,
}

unsafe extern "C" fn drop_tagged<T: 'static>(
    _env: napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    // Sound: `data` is the Box<Tagged<T>> leaked in Env::external, and node
    // calls this finalizer exactly once.
    drop(Box::from_raw(data as *mut Tagged<T>));
}

impl Env {
    fn check(self, status: napi_status, what: &str) -> Result<()> {
        if status == NAPI_OK {
            return Ok(());
        }
        let mut pending = false;
        // Sound: valid env, writes one bool.
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        if pending || status == NAPI_PENDING_EXCEPTION {
            Err(Error::pending())
        } else {
            Err(Error::new(format!(
                "Node-API {what} failed (status {status})"
            )))
        }
    }

    /// Runs a Node-API call that produces one value.
    fn make(self, what: &str, f: impl FnOnce(*mut napi_value) -> napi_status) -> Result<Value> {
        let mut out: napi_value = null_mut();
        self.check(f(&mut out), what)?;
        Ok(Value(out))
    }

    pub fn undefined(self) -> Value {
        // Sound: valid env and out-pointer; cannot fail on a live env.
        let mut out = null_mut();
        unsafe { napi_get_undefined(self.0, &mut out) };
        Value(out)
    }

    pub fn null(self) -> Result<Value> {
        // Sound: valid env and out-pointer (the same holds for the
        // value-creating calls below).
        self.make("get_null", |out| unsafe { napi_get_null(self.0, out) })
    }

    pub fn boolean(self, b: bool) -> Result<Value> {
        self.make("get_boolean", |out| unsafe {
            napi_get_boolean(self.0, b, out)
        })
    }

    pub fn number(self, n: f64) -> Result<Value> {
        self.make("create_double", |out| unsafe {
            napi_create_double(self.0, n, out)
        })
    }

    pub fn string(self, s: &str) -> Result<Value> {
        // Sound: pointer and length describe the UTF-8 bytes of `s`.
        self.make("create_string_utf8", |out| unsafe {
            napi_create_string_utf8(self.0, s.as_ptr() as *const _, s.len(), out)
        })
    }

    pub fn object(self) -> Result<Value> {
        self.make("create_object", |out| unsafe {
            napi_create_object(self.0, out)
        })
    }

    #[allow(dead_code)] // part of the helper layer; no module needs it yet
    pub fn array(self, values: &[Value]) -> Result<Value> {
        let array = self.make("create_array", |out| unsafe {
            napi_create_array_with_length(self.0, values.len(), out)
        })?;
        for (i, v) in values.iter().enumerate() {
            // Sound: `array` and `v` are live values of this env.
            self.check(
                unsafe { napi_set_element(self.0, array.0, i as u32, v.0) },
                "set_element",
            )?;
        }
        Ok(array)
    }

    /// `null` for `None`, else the converted value.
    pub fn nullable<T>(self, v: Option<T>, f: impl FnOnce(T) -> Result<Value>) -> Result<Value> {
        v.map_or_else(|| self.null(), f)
    }

    /// A new typed array of `kind` (a `NAPI_*_ARRAY` constant matching `T`)
    /// holding a copy of `values`.
    fn typed_array<T: Copy>(self, kind: c_int, values: &[T]) -> Result<Value> {
        let mut data: *mut c_void = null_mut();
        let bytes = std::mem::size_of_val(values);
        // Sound: node allocates `bytes` bytes and returns their address.
        let buffer = self.make("create_arraybuffer", |out| unsafe {
            napi_create_arraybuffer(self.0, bytes, &mut data, out)
        })?;
        if bytes > 0 {
            // Sound: `data` points to `bytes` fresh bytes, aligned for any
            // element type (ArrayBuffer storage is), not overlapping `values`.
            unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), data as *mut T, values.len()) };
        }
        self.make("create_typedarray", |out| unsafe {
            napi_create_typedarray(self.0, kind, values.len(), buffer.0, 0, out)
        })
    }

    /// A copy of a typed array's elements, which must be of `kind` (a
    /// `NAPI_*_ARRAY` constant matching `T`).
    fn typed_array_vec<T: Copy>(
        self,
        v: Value,
        kind: c_int,
        what: &str,
        expected: &str,
    ) -> Result<Vec<T>> {
        let mut is_typed = false;
        // Sound: live value; writes one bool.
        self.check(
            unsafe { napi_is_typedarray(self.0, v.0, &mut is_typed) },
            "is_typedarray",
        )?;
        let (mut actual, mut len, mut data) = (0, 0usize, null_mut::<c_void>());
        if is_typed {
            // Sound: out-pointers for kind, length and data; the rest may be null.
            self.check(
                unsafe {
                    napi_get_typedarray_info(
                        self.0,
                        v.0,
                        &mut actual,
                        &mut len,
                        &mut data,
                        null_mut(),
                        null_mut(),
                    )
                },
                "get_typedarray_info",
            )?;
        }
        if !is_typed || actual != kind {
            return Err(Error::type_error(format!("{what} must be a {expected}")));
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        // Sound: node reports `len` elements of the checked kind at `data`,
        // alive during this call; typed array views are element-aligned.
        Ok(unsafe { std::slice::from_raw_parts(data as *const T, len) }.to_vec())
    }

    pub fn float64_array(self, values: &[f64]) -> Result<Value> {
        self.typed_array(NAPI_FLOAT64_ARRAY, values)
    }

    #[allow(dead_code)] // part of the helper layer; no module needs it yet
    pub fn uint32_array(self, values: &[u32]) -> Result<Value> {
        self.typed_array(NAPI_UINT32_ARRAY, values)
    }

    pub fn to_f64_vec(self, v: Value, what: &str) -> Result<Vec<f64>> {
        self.typed_array_vec(v, NAPI_FLOAT64_ARRAY, what, "Float64Array")
    }

    pub fn to_u32_vec(self, v: Value, what: &str) -> Result<Vec<u32>> {
        self.typed_array_vec(v, NAPI_UINT32_ARRAY, what, "Uint32Array")
    }

    pub fn set(self, object: Value, name: &str, value: Value) -> Result<()> {
        let name = CString::new(name).map_err(|_| Error::new("property name contains NUL"))?;
        // Sound: live values, NUL-terminated name.
        self.check(
            unsafe { napi_set_named_property(self.0, object.0, name.as_ptr(), value.0) },
            "set_named_property",
        )
    }

    pub fn get(self, object: Value, name: &str) -> Result<Value> {
        let cname = CString::new(name).map_err(|_| Error::new("property name contains NUL"))?;
        self.make("get_named_property", |out| unsafe {
            napi_get_named_property(self.0, object.0, cname.as_ptr(), out)
        })
    }

    pub fn type_of(self, v: Value) -> Result<c_int> {
        let mut kind = 0;
        // Sound: live value, writes one int.
        self.check(unsafe { napi_typeof(self.0, v.0, &mut kind) }, "typeof")?;
        Ok(kind)
    }

    pub fn is_nullish(self, v: Value) -> Result<bool> {
        Ok(matches!(self.type_of(v)?, NAPI_UNDEFINED | NAPI_NULL))
    }

    fn expect(self, v: Value, kind: c_int, what: &str, expected: &str) -> Result<()> {
        let actual = self.type_of(v)?;
        if actual != kind {
            return Err(Error::type_error(format!(
                "{what} must be {expected}, got {}",
                type_name(actual)
            )));
        }
        Ok(())
    }

    pub fn to_f64(self, v: Value, what: &str) -> Result<f64> {
        self.expect(v, NAPI_NUMBER, what, "a number")?;
        let mut n = 0.0;
        // Sound: `v` is a number; writes one f64.
        self.check(
            unsafe { napi_get_value_double(self.0, v.0, &mut n) },
            "get_value_double",
        )?;
        Ok(n)
    }

    pub fn to_bool(self, v: Value, what: &str) -> Result<bool> {
        self.expect(v, NAPI_BOOLEAN, what, "a boolean")?;
        let mut b = false;
        // Sound: `v` is a boolean; writes one bool.
        self.check(
            unsafe { napi_get_value_bool(self.0, v.0, &mut b) },
            "get_value_bool",
        )?;
        Ok(b)
    }

    pub fn to_string(self, v: Value, what: &str) -> Result<String> {
        self.expect(v, NAPI_STRING, what, "a string")?;
        let mut len = 0usize;
        // Sound: a null buffer asks only for the length in bytes.
        self.check(
            unsafe { napi_get_value_string_utf8(self.0, v.0, null_mut(), 0, &mut len) },
            "get_value_string",
        )?;
        let mut buf = vec![0u8; len + 1];
        let mut written = 0usize;
        // Sound: `buf` has room for `len` bytes plus the NUL node appends.
        self.check(
            unsafe {
                napi_get_value_string_utf8(
                    self.0,
                    v.0,
                    buf.as_mut_ptr() as *mut _,
                    buf.len(),
                    &mut written,
                )
            },
            "get_value_string",
        )?;
        buf.truncate(written);
        String::from_utf8(buf).map_err(|_| Error::new(format!("{what} is not valid UTF-8")))
    }

    /// A non-negative whole number, e.g. a count or milliseconds.
    pub fn to_u64(self, v: Value, what: &str) -> Result<u64> {
        let n = self.to_f64(v, what)?;
        if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0) {
            return Err(Error::with_code(
                "ERR_OUT_OF_RANGE",
                format!("{what} must be a whole number >= 0, got {n}"),
            ));
        }
        Ok(n as u64)
    }

    pub fn array_len(self, v: Value, what: &str) -> Result<u32> {
        let mut is_array = false;
        // Sound: live value; writes one bool / one u32.
        self.check(
            unsafe { napi_is_array(self.0, v.0, &mut is_array) },
            "is_array",
        )?;
        if !is_array {
            return Err(Error::type_error(format!(
                "{what} must be an array, got {}",
                type_name(self.type_of(v)?)
            )));
        }
        let mut len = 0u32;
        self.check(
            unsafe { napi_get_array_length(self.0, v.0, &mut len) },
            "get_array_length",
        )?;
        Ok(len)
    }

    pub fn element(self, array: Value, index: u32) -> Result<Value> {
        self.make("get_element", |out| unsafe {
            napi_get_element(self.0, array.0, index, out)
        })
    }

    pub fn to_string_array(self, v: Value, what: &str) -> Result<Vec<String>> {
        (0..self.array_len(v, what)?)
            .map(|i| self.to_string(self.element(v, i)?, &format!("{what}[{i}]")))
            .collect()
    }

    /// The own enumerable string keys of an object.
    pub fn keys(self, object: Value, what: &str) -> Result<Vec<String>> {
        self.expect(object, NAPI_OBJECT, what, "an object")?;
        let names = self.make("get_property_names", |out| unsafe {
            napi_get_property_names(self.0, object.0, out)
        })?;
        self.to_string_array(names, what)
    }

    /// Hands shared Rust data to JavaScript; dropped when the value is collected.
    pub fn external<T: Send + Sync + 'static>(self, value: Arc<T>) -> Result<Value> {
        let tagged = Box::into_raw(Box::new(Tagged {
            type_id: TypeId::of::<T>(),
            value,
        }));
        let result = self.make("create_external", |out| unsafe {
            napi_create_external(
                self.0,
                tagged as *mut c_void,
                drop_tagged::<T>,
                null_mut(),
                out,
            )
        });
        if result.is_err() {
            // Sound: node did not take ownership, so we still own the box.
            drop(unsafe { Box::from_raw(tagged) });
        }
        result
    }

    /// The data behind an external made by [`Env::external`] with the same `T`.
    pub fn get_external<T: Send + Sync + 'static>(self, v: Value, what: &str) -> Result<Arc<T>> {
        self.expect(v, NAPI_EXTERNAL, what, "a handle from this addon")?;
        let mut data: *mut c_void = null_mut();
        // Sound: `v` is an external; writes its data pointer.
        self.check(
            unsafe { napi_get_value_external(self.0, v.0, &mut data) },
            "get_value_external",
        )?;
        // Sound: all externals of this addon are non-null Tagged<_> with
        // repr(C), so the TypeId is at offset 0 whatever their T.
        if data.is_null() || unsafe { *(data as *const TypeId) } != TypeId::of::<T>() {
            return Err(Error::type_error(format!(
                "{what} is a handle of another kind"
            )));
        }
        // Sound: the tag matched, so `data` is a live Tagged<T>.
        Ok(unsafe { &*(data as *const Tagged<T>) }.value.clone())
    }

    fn error_value(self, e: &Error) -> Result<Value> {
        let code = match e.code {
            Some(c) => self.string(c)?,
            None => Value(null_mut()),
        };
        let message = self.string(&e.message)?;
        self.make("create_error", |out| unsafe {
            napi_create_error(self.0, code.0, message.0, out)
        })
    }

    fn throw(self, e: Error) {
        if e.pending {
            return;
        }
        let message = CString::new(e.message.replace('\0', " ")).unwrap_or_default();
        let code = e.code.map(|c| CString::new(c).unwrap_or_default());
        let code_ptr = code.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        // Sound: NUL-terminated strings alive for the call.
        unsafe {
            if e.type_error {
                napi_throw_type_error(self.0, code_ptr, message.as_ptr());
            } else {
                napi_throw_error(self.0, code_ptr, message.as_ptr());
            }
        }
    }

    /// A promise and the means to settle it from any thread. While the
    /// completer is alive it keeps the event loop running.
    pub fn promise<T: Send + 'static>(
        self,
        to_js: fn(Env, T) -> Result<Value>,
    ) -> Result<(Value, Completer<T>)> {
        let mut deferred: napi_deferred = null_mut();
        let promise = self.make("create_promise", |out| unsafe {
            napi_create_promise(self.0, &mut deferred, out)
        })?;
        let name = self.string("ha-native completion")?;
        let mut tsfn: napi_threadsafe_function = null_mut();
        // Sound: no JS function (call_js does the work), queue size 0 means
        // unlimited, one thread holds the function until `settle` releases it.
        let status = unsafe {
            napi_create_threadsafe_function(
                self.0,
                null_mut(),
                null_mut(),
                name.0,
                0,
                1,
                null_mut(),
                None,
                null_mut(),
                settle_on_js_thread::<T>,
                &mut tsfn,
            )
        };
        self.check(status, "create_threadsafe_function")?;
        Ok((
            promise,
            Completer {
                tsfn,
                deferred,
                to_js,
                settled: false,
                _t: PhantomData,
            },
        ))
    }
}

/// Settles one promise from any thread. Dropping it unsettled rejects the
/// promise, so a JavaScript caller never waits forever.
pub struct Completer<T: Send + 'static> {
    tsfn: napi_threadsafe_function,
    deferred: napi_deferred,
    to_js: fn(Env, T) -> Result<Value>,
    settled: bool,
    _t: PhantomData<T>,
}

// Sound: threadsafe functions are made to be called from any thread; the
// deferred is only touched on the JS thread, in settle_on_js_thread.
unsafe impl<T: Send + 'static> Send for Completer<T> {}

struct Settlement<T> {
    deferred: napi_deferred,
    to_js: fn(Env, T) -> Result<Value>,
    result: Result<T>,
}

impl<T: Send + 'static> Completer<T> {
    pub fn resolve(mut self, value: T) {
        self.settle(Ok(value));
    }

    pub fn reject(mut self, error: Error) {
        self.settle(Err(error));
    }

    fn settle(&mut self, result: Result<T>) {
        if self.settled {
            return;
        }
        self.settled = true;
        let data = Box::into_raw(Box::new(Settlement {
            deferred: self.deferred,
            to_js: self.to_js,
            result,
        }));
        // Sound: the tsfn is live until released below; blocking mode on an
        // unlimited queue does not block.
        let status = unsafe {
            napi_call_threadsafe_function(self.tsfn, data as *mut c_void, NAPI_TSFN_BLOCKING)
        };
        if status != NAPI_OK {
            // The environment is shutting down and will never run the call;
            // we still own the settlement.
            drop(unsafe { Box::from_raw(data) });
        }
        // Sound: this thread acquired the tsfn at creation and releases it once.
        unsafe { napi_release_threadsafe_function(self.tsfn, NAPI_TSFN_RELEASE) };
    }
}

impl<T: Send + 'static> Drop for Completer<T> {
    fn drop(&mut self) {
        self.settle(Err(Error::new(
            "the native operation ended without a result",
        )));
    }
}

unsafe extern "C" fn settle_on_js_thread<T: Send + 'static>(
    env: napi_env,
    _js_callback: napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    // Sound: `data` is the Box<Settlement<T>> leaked in Completer::settle.
    let settlement = Box::from_raw(data as *mut Settlement<T>);
    if env.is_null() {
        return;
    }
    let env = Env(env);
    let outcome = match settlement.result {
        Ok(value) => (settlement.to_js)(env, value),
        Err(e) => Err(e),
    };
    // Sound: each deferred is settled exactly once, here, on the JS thread.
    match outcome {
        Ok(v) => {
            napi_resolve_deferred(env.0, settlement.deferred, v.0);
        }
        Err(e) => {
            if let Ok(err) = env.error_value(&e) {
                napi_reject_deferred(env.0, settlement.deferred, err.0);
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

unsafe extern "C" fn trampoline(raw_env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw_env);
    let mut argc = MAX_ARGS;
    let mut argv = [null_mut(); MAX_ARGS];
    let mut data: *mut c_void = null_mut();
    // Sound: argv has room for MAX_ARGS values, argc says so.
    if napi_get_cb_info(
        raw_env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        null_mut(),
        &mut data,
    ) != NAPI_OK
    {
        env.throw(Error::new("Node-API get_cb_info failed"));
        return null_mut();
    }
    // Sound: `data` is the Callback fn pointer given to napi_create_function
    // in Exports::function; fn pointers and data pointers have the same size.
    let callback: Callback = std::mem::transmute::<*mut c_void, Callback>(data);
    let args = Args {
        values: argv[..argc.min(MAX_ARGS)]
            .iter()
            .map(|v| Value(*v))
            .collect(),
        undefined: env.undefined(),
    };
    match catch_unwind(AssertUnwindSafe(|| callback(env, &args))) {
        Ok(Ok(value)) => value.0,
        Ok(Err(e)) => {
            env.throw(e);
            null_mut()
        }
        Err(panic) => {
            env.throw(Error::new(format!(
                "internal error in ha-native: {}",
                panic_message(&*panic)
            )));
            null_mut()
        }
    }
}

/// The module's exports object, filled by each module's `register`.
pub struct Exports {
    env: Env,
    object: Value,
}

impl Exports {
    pub fn env(&self) -> Env {
        self.env
    }

    pub fn function(&self, name: &str, callback: Callback) -> Result<()> {
        // Sound: name pointer/length describe `name`; the fn pointer travels
        // as the callback's data and comes back in `trampoline`.
        let f = self.env.make("create_function", |out| unsafe {
            napi_create_function(
                self.env.0,
                name.as_ptr() as *const _,
                name.len(),
                trampoline,
                callback as *mut c_void,
                out,
            )
        })?;
        self.env.set(self.object, name, f)
    }

    pub fn value(&self, name: &str, value: Value) -> Result<()> {
        self.env.set(self.object, name, value)
    }
}

pub type Register = fn(&Exports) -> Result<()>;

/// Fills `exports` from every module; throws the first failure.
///
/// # Safety
/// `env` and `exports` must be the arguments node passed to
/// `napi_register_module_v1`.
pub unsafe fn register_module(
    env: napi_env,
    exports: napi_value,
    modules: &[Register],
) -> napi_value {
    let exports = Exports {
        env: Env(env),
        object: Value(exports),
    };
    for register in modules {
        match catch_unwind(AssertUnwindSafe(|| register(&exports))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                exports.env.throw(e);
                return null_mut();
            }
            Err(panic) => {
                exports.env.throw(Error::new(format!(
                    "ha-native failed to load: {}",
                    panic_message(&*panic)
                )));
                return null_mut();
            }
        }
    }
    exports.object.0
}
