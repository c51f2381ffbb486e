//! The environment of one call and the values it makes and reads.

use crate::error::{Error, Result};
use crate::sys::*;
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;

/// A JavaScript value, valid during the call (`'e`) that produced it: node
/// frees its handle when the call returns.
#[derive(Clone, Copy)]
pub struct Value<'e> {
    raw: napi_value,
    _scope: PhantomData<&'e ()>,
}

/// The environment of the current call (`'e`). Only usable on the
/// JavaScript thread: like [`Value`], it is neither `Send` nor `Sync`.
#[derive(Clone, Copy)]
pub struct Env<'e> {
    raw: napi_env,
    _scope: PhantomData<&'e ()>,
}

/// Runs `f` with `raw` as an [`Env`] whose lifetime `f` cannot name outside
/// itself, so nothing made with it survives the call.
///
/// # Safety
/// `raw` must be the live environment node passed to the callback that is
/// running now, on this (the JavaScript) thread, inside a handle scope.
pub(crate) unsafe fn with_env<R>(raw: napi_env, f: impl for<'e> FnOnce(Env<'e>) -> R) -> R {
    f(Env {
        raw,
        _scope: PhantomData,
    })
}

impl<'e> Value<'e> {
    /// Wraps a handle that node returned in the current call.
    ///
    /// # Safety
    /// `raw` must be null or a handle of `env`'s current call.
    pub unsafe fn from_raw(_env: Env<'e>, raw: napi_value) -> Value<'e> {
        Value::new(raw)
    }

    /// Internal: only for handles node just returned to this call.
    pub(crate) fn new(raw: napi_value) -> Value<'e> {
        Value {
            raw,
            _scope: PhantomData,
        }
    }

    pub fn raw(self) -> napi_value {
        self.raw
    }
}

/// Element types of the typed arrays the layer converts; the constant is
/// the `napi_typedarray_type` with exactly this element layout.
pub trait TypedArrayElement: Copy + sealed::Sealed {
    const KIND: c_int;
    const NAME: &'static str;
}

impl TypedArrayElement for f64 {
    const KIND: c_int = NAPI_FLOAT64_ARRAY;
    const NAME: &'static str = "Float64Array";
}

impl TypedArrayElement for u32 {
    const KIND: c_int = NAPI_UINT32_ARRAY;
    const NAME: &'static str = "Uint32Array";
}

mod sealed {
    /// Only the element types above: every bit pattern of them is valid, so
    /// reading JavaScript-written memory as them is.
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for u32 {}
}

pub(crate) fn type_name(kind: c_int) -> &'static str {
    match kind {
        NAPI_UNDEFINED => "undefined",
        NAPI_NULL => "null",
        NAPI_BOOLEAN => "a boolean",
        NAPI_NUMBER => "a number",
        NAPI_STRING => "a string",
        NAPI_SYMBOL => "a symbol",
        NAPI_OBJECT => "an object",
        NAPI_FUNCTION => "a function",
        NAPI_EXTERNAL => "an external",
        NAPI_BIGINT => "a bigint",
        _ => "an unknown value",
    }
}

impl<'e> Env<'e> {
    pub fn raw(self) -> napi_env {
        self.raw
    }

    pub(crate) fn check(self, status: napi_status, what: &str) -> Result<()> {
        if status == NAPI_OK {
            return Ok(());
        }
        if status == NAPI_PENDING_EXCEPTION || self.exception_pending() {
            Err(Error::pending())
        } else {
            Err(Error::new(format!(
                "Node-API {what} failed (status {status})"
            )))
        }
    }

    /// Runs a Node-API call that produces one value.
    pub(crate) fn make(
        self,
        what: &str,
        f: impl FnOnce(*mut napi_value) -> napi_status,
    ) -> Result<Value<'e>> {
        let mut out: napi_value = null_mut();
        self.check(f(&mut out), what)?;
        Ok(Value::new(out))
    }

    pub(crate) fn exception_pending(self) -> bool {
        let mut pending = false;
        // SAFETY: live env; writes one bool.
        let status = unsafe { napi_is_exception_pending(self.raw, &mut pending) };
        status == NAPI_OK && pending
    }

    /// The pending JavaScript exception, if any, which is cleared.
    pub(crate) fn take_exception(self) -> Option<Value<'e>> {
        if !self.exception_pending() {
            return None;
        }
        let mut exception = null_mut();
        // SAFETY: live env; writes one handle of this call.
        let status = unsafe { napi_get_and_clear_last_exception(self.raw, &mut exception) };
        (status == NAPI_OK && !exception.is_null()).then(|| Value::new(exception))
    }

    /// `undefined`. Node-API cannot fail to give it on a live environment.
    pub fn undefined(self) -> Value<'e> {
        let mut out = null_mut();
        // SAFETY: live env, out-pointer to one handle.
        unsafe { napi_get_undefined(self.raw, &mut out) };
        Value::new(out)
    }

    pub fn null(self) -> Result<Value<'e>> {
        // SAFETY: live env and an out-pointer to one handle (the same holds
        // for the value-creating calls below, whose inputs are plain values).
        self.make("get_null", |out| unsafe { napi_get_null(self.raw, out) })
    }

    pub fn boolean(self, b: bool) -> Result<Value<'e>> {
        // SAFETY: as for `null`.
        self.make("get_boolean", |out| unsafe {
            napi_get_boolean(self.raw, b, out)
        })
    }

    pub fn number(self, n: f64) -> Result<Value<'e>> {
        // SAFETY: as for `null`.
        self.make("create_double", |out| unsafe {
            napi_create_double(self.raw, n, out)
        })
    }

    pub fn string(self, s: &str) -> Result<Value<'e>> {
        // SAFETY: pointer and length describe the UTF-8 bytes of `s`, which
        // node copies during the call.
        self.make("create_string_utf8", |out| unsafe {
            napi_create_string_utf8(self.raw, s.as_ptr().cast(), s.len(), out)
        })
    }

    pub fn object(self) -> Result<Value<'e>> {
        // SAFETY: as for `null`.
        self.make("create_object", |out| unsafe {
            napi_create_object(self.raw, out)
        })
    }

    /// A JavaScript array of `values`, in order.
    pub fn array(self, values: &[Value<'e>]) -> Result<Value<'e>> {
        // SAFETY: as for `null`.
        let array = self.make("create_array_with_length", |out| unsafe {
            napi_create_array_with_length(self.raw, values.len(), out)
        })?;
        for (i, v) in values.iter().enumerate() {
            let i = u32::try_from(i).map_err(|_| Error::new("array too long"))?;
            self.check(
                // SAFETY: `array` and `v` are live handles of this env's scope.
                unsafe { napi_set_element(self.raw, array.raw, i, v.raw) },
                "set_element",
            )?;
        }
        Ok(array)
    }

    /// `null` for `None`, else the converted value.
    pub fn nullable<T>(
        self,
        v: Option<T>,
        f: impl FnOnce(T) -> Result<Value<'e>>,
    ) -> Result<Value<'e>> {
        v.map_or_else(|| self.null(), f)
    }

    /// A new typed array holding a copy of `values`.
    pub fn typed_array<T: TypedArrayElement>(self, values: &[T]) -> Result<Value<'e>> {
        let mut data: *mut c_void = null_mut();
        let bytes = std::mem::size_of_val(values);
        // SAFETY: node allocates `bytes` bytes and writes their address.
        let buffer = self.make("create_arraybuffer", |out| unsafe {
            napi_create_arraybuffer(self.raw, bytes, &mut data, out)
        })?;
        if bytes > 0 {
            if data.is_null() || data.align_offset(std::mem::align_of::<T>()) != 0 {
                return Err(Error::new("Node-API gave a misaligned ArrayBuffer"));
            }
            // SAFETY: `data` points to `bytes` fresh bytes owned by the new
            // ArrayBuffer (checked aligned for T just above), which nothing
            // else references yet and which cannot overlap `values`.
            unsafe {
                std::ptr::copy_nonoverlapping(values.as_ptr(), data.cast::<T>(), values.len())
            };
        }
        // SAFETY: `buffer` is live and holds exactly `values.len()` elements
        // of the kind T::KIND describes, from offset 0.
        self.make("create_typedarray", |out| unsafe {
            napi_create_typedarray(self.raw, T::KIND, values.len(), buffer.raw, 0, out)
        })
    }

    /// A copy of a typed array's elements. It must be a `T` array over an
    /// ordinary ArrayBuffer: one over a SharedArrayBuffer could be written
    /// by another thread while it is read, so it is refused.
    pub fn typed_vec<T: TypedArrayElement>(self, v: Value<'e>, what: &str) -> Result<Vec<T>> {
        let refuse = || Error::type_error(format!("{what} must be a {}", T::NAME));
        let mut is_typed = false;
        self.check(
            // SAFETY: live value; writes one bool.
            unsafe { napi_is_typedarray(self.raw, v.raw, &mut is_typed) },
            "is_typedarray",
        )?;
        if !is_typed {
            return Err(refuse());
        }
        let (mut kind, mut len, mut data) = (0, 0usize, null_mut::<c_void>());
        let mut buffer: napi_value = null_mut();
        self.check(
            // SAFETY: `v` is a typed array; out-pointers for kind, length, data
            // and buffer (a handle of this call); the offset is not wanted.
            unsafe {
                napi_get_typedarray_info(
                    self.raw,
                    v.raw,
                    &mut kind,
                    &mut len,
                    &mut data,
                    &mut buffer,
                    null_mut(),
                )
            },
            "get_typedarray_info",
        )?;
        if kind != T::KIND {
            return Err(refuse());
        }
        let mut ordinary = false;
        self.check(
            // SAFETY: live handle; writes one bool.
            unsafe { napi_is_arraybuffer(self.raw, buffer, &mut ordinary) },
            "is_arraybuffer",
        )?;
        if !ordinary {
            return Err(Error::type_error(format!(
                "{what} must be a {} over an ArrayBuffer, not a SharedArrayBuffer",
                T::NAME
            )));
        }
        if len == 0 {
            // Also a detached buffer, whose data pointer is null.
            return Ok(Vec::new());
        }
        if data.is_null() || data.align_offset(std::mem::align_of::<T>()) != 0 {
            return Err(Error::new(format!("{what} has misaligned data")));
        }
        // SAFETY: node reports `len` elements of kind T::KIND at `data`
        // (non-null and aligned, checked above), in an ArrayBuffer no other
        // thread can write. No JavaScript runs while the slice exists (it is
        // copied at once), so the buffer can neither be detached nor freed;
        // every bit pattern is a valid T (TypedArrayElement is sealed).
        Ok(unsafe { std::slice::from_raw_parts(data.cast::<T>(), len) }.to_vec())
    }

    pub fn set(self, object: Value<'e>, name: &str, value: Value<'e>) -> Result<()> {
        let name = CString::new(name).map_err(|_| Error::new("property name contains NUL"))?;
        // SAFETY: live handles; NUL-terminated name alive for the call.
        self.check(
            unsafe { napi_set_named_property(self.raw, object.raw, name.as_ptr(), value.raw) },
            "set_named_property",
        )
    }

    pub fn get(self, object: Value<'e>, name: &str) -> Result<Value<'e>> {
        let cname = CString::new(name).map_err(|_| Error::new("property name contains NUL"))?;
        // SAFETY: live handle; NUL-terminated name alive for the call.
        self.make("get_named_property", |out| unsafe {
            napi_get_named_property(self.raw, object.raw, cname.as_ptr(), out)
        })
    }

    pub fn type_of(self, v: Value<'e>) -> Result<c_int> {
        let mut kind = 0;
        // SAFETY: live handle; writes one int.
        self.check(unsafe { napi_typeof(self.raw, v.raw, &mut kind) }, "typeof")?;
        Ok(kind)
    }

    pub fn is_nullish(self, v: Value<'e>) -> Result<bool> {
        Ok(matches!(self.type_of(v)?, NAPI_UNDEFINED | NAPI_NULL))
    }

    pub(crate) fn expect(
        self,
        v: Value<'e>,
        kind: c_int,
        what: &str,
        expected: &str,
    ) -> Result<()> {
        let actual = self.type_of(v)?;
        if actual != kind {
            return Err(Error::type_error(format!(
                "{what} must be {expected}, got {}",
                type_name(actual)
            )));
        }
        Ok(())
    }

    pub fn to_f64(self, v: Value<'e>, what: &str) -> Result<f64> {
        self.expect(v, NAPI_NUMBER, what, "a number")?;
        let mut n = 0.0;
        self.check(
            // SAFETY: `v` is a number; writes one f64.
            unsafe { napi_get_value_double(self.raw, v.raw, &mut n) },
            "get_value_double",
        )?;
        Ok(n)
    }

    pub fn to_bool(self, v: Value<'e>, what: &str) -> Result<bool> {
        self.expect(v, NAPI_BOOLEAN, what, "a boolean")?;
        let mut b = false;
        self.check(
            // SAFETY: `v` is a boolean; writes one bool.
            unsafe { napi_get_value_bool(self.raw, v.raw, &mut b) },
            "get_value_bool",
        )?;
        Ok(b)
    }

    pub fn to_string(self, v: Value<'e>, what: &str) -> Result<String> {
        self.expect(v, NAPI_STRING, what, "a string")?;
        let mut len = 0usize;
        self.check(
            // SAFETY: a null buffer asks only for the length in bytes.
            unsafe { napi_get_value_string_utf8(self.raw, v.raw, null_mut(), 0, &mut len) },
            "get_value_string",
        )?;
        let mut buf = vec![0u8; len + 1];
        let mut written = 0usize;
        self.check(
            // SAFETY: `buf` has room for `len` bytes plus the NUL node appends;
            // node writes at most `buf.len()` bytes.
            unsafe {
                napi_get_value_string_utf8(
                    self.raw,
                    v.raw,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut written,
                )
            },
            "get_value_string",
        )?;
        buf.truncate(written.min(len));
        String::from_utf8(buf).map_err(|_| Error::new(format!("{what} is not valid UTF-8")))
    }

    /// A non-negative whole number, e.g. a count or milliseconds.
    pub fn to_u64(self, v: Value<'e>, what: &str) -> Result<u64> {
        let n = self.to_f64(v, what)?;
        if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0) {
            return Err(Error::with_code(
                "ERR_OUT_OF_RANGE",
                format!("{what} must be a whole number >= 0, got {n}"),
            ));
        }
        Ok(n as u64)
    }

    pub fn array_len(self, v: Value<'e>, what: &str) -> Result<u32> {
        let mut is_array = false;
        self.check(
            // SAFETY: live handle; writes one bool.
            unsafe { napi_is_array(self.raw, v.raw, &mut is_array) },
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
            // SAFETY: `v` is an array; writes one u32.
            unsafe { napi_get_array_length(self.raw, v.raw, &mut len) },
            "get_array_length",
        )?;
        Ok(len)
    }

    pub fn element(self, array: Value<'e>, index: u32) -> Result<Value<'e>> {
        // SAFETY: live handle; out-pointer to one handle.
        self.make("get_element", |out| unsafe {
            napi_get_element(self.raw, array.raw, index, out)
        })
    }

    pub fn to_string_array(self, v: Value<'e>, what: &str) -> Result<Vec<String>> {
        (0..self.array_len(v, what)?)
            .map(|i| self.to_string(self.element(v, i)?, &format!("{what}[{i}]")))
            .collect()
    }

    /// The own enumerable string keys of an object.
    pub fn keys(self, object: Value<'e>, what: &str) -> Result<Vec<String>> {
        self.expect(object, NAPI_OBJECT, what, "an object")?;
        // SAFETY: `object` is an object; out-pointer to one handle.
        let names = self.make("get_property_names", |out| unsafe {
            napi_get_property_names(self.raw, object.raw, out)
        })?;
        self.to_string_array(names, what)
    }

    /// A JavaScript `Error` (or `TypeError`) for `e`, with its code.
    pub(crate) fn error_value(self, e: &Error) -> Result<Value<'e>> {
        let code = match e.code {
            Some(c) => self.string(c)?,
            None => Value::new(null_mut()),
        };
        let message = self.string(&e.message)?;
        // SAFETY: live handles (a null code means "no code"); out-pointer.
        self.make("create_error", |out| unsafe {
            if e.type_error {
                napi_create_type_error(self.raw, code.raw, message.raw, out)
            } else {
                napi_create_error(self.raw, code.raw, message.raw, out)
            }
        })
    }

    /// What to reject a promise with for `e`. Never fails: when the error
    /// cannot be made, the fallbacks are a plain error with a fixed message,
    /// the message as a string, and at last `undefined`. Leaves no exception
    /// pending, which would make the rejection itself fail.
    pub(crate) fn rejection(self, e: &Error) -> Value<'e> {
        let pending = self.take_exception();
        if let (true, Some(exception)) = (e.pending, pending) {
            return exception;
        }
        let fallback = Error::new(FALLBACK_MESSAGE);
        for attempt in [e, &fallback] {
            match self.error_value(attempt) {
                Ok(v) => return v,
                Err(_) => {
                    let _ = self.take_exception();
                }
            }
        }
        match self.string(&e.message) {
            Ok(v) => v,
            Err(_) => {
                let _ = self.take_exception();
                self.undefined()
            }
        }
    }

    /// Throws `e` as the result of the current call. A `pending` error
    /// leaves the pending exception in place; should there be none, a plain
    /// error is thrown rather than returning nothing.
    pub(crate) fn throw(self, e: Error) {
        if e.pending && self.exception_pending() {
            return;
        }
        let message = CString::new(e.message.replace('\0', " ")).unwrap_or_default();
        let code = e.code.and_then(|c| CString::new(c).ok());
        let code_ptr = code.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        // SAFETY: live env; NUL-terminated strings (or a null code) alive for
        // the call. Failure means an exception is already pending, which is
        // then what the caller sees.
        unsafe {
            if e.type_error {
                napi_throw_type_error(self.raw, code_ptr, message.as_ptr());
            } else {
                napi_throw_error(self.raw, code_ptr, message.as_ptr());
            }
        }
    }
}

pub(crate) const FALLBACK_MESSAGE: &str =
    "native operation failed, and its error could not be created";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Node, Val};

    /// Runs `f` on a handle of `v` in a fake node.
    fn with_value<R>(v: Val, f: impl for<'e> FnOnce(Env<'e>, Value<'e>) -> R) -> R {
        let node = Node::new();
        let raw = node.alloc(v);
        // SAFETY: `raw` is a handle of this fake node.
        node.run(|env| f(env, unsafe { Value::from_raw(env, raw) }))
    }

    #[test]
    fn strings_round_trip_whatever_their_bytes() {
        for s in ["", "vm:100", "grüße, 节点 🖥", "nul\0inside"] {
            let back = with_value(Val::Str(s.into()), |env, v| env.to_string(v, "s").unwrap());
            assert_eq!(back, s);
        }
    }

    #[test]
    fn a_wrong_type_is_a_type_error_naming_the_argument() {
        let e = with_value(Val::Str("5".into()), |env, v| env.to_f64(v, "timeoutMs")).unwrap_err();
        assert_eq!(
            (e.type_error, e.code, e.message.as_str()),
            (
                true,
                Some("ERR_INVALID_ARG_TYPE"),
                "timeoutMs must be a number, got a string"
            )
        );
        let e = with_value(Val::Number(1.0), |env, v| env.to_string_array(v, "args")).unwrap_err();
        assert_eq!(e.message, "args must be an array, got a number");
    }

    #[test]
    fn whole_numbers_are_checked() {
        for n in [-1.0, 0.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0] {
            let e = with_value(Val::Number(n), |env, v| env.to_u64(v, "n")).unwrap_err();
            assert_eq!(e.code, Some("ERR_OUT_OF_RANGE"), "{n}");
        }
        assert_eq!(
            with_value(Val::Number(7.0), |env, v| env.to_u64(v, "n")),
            Ok(7)
        );
    }

    #[test]
    fn typed_arrays_round_trip_and_are_checked() {
        let node = Node::new();
        let values = [1.5, -0.0, f64::MAX];
        let floats = node.run(|env| {
            let floats = env.typed_array(&values).unwrap();
            let keys = env.typed_array(&[7u32, 9]).unwrap();
            assert_eq!(env.typed_vec::<f64>(floats, "a").unwrap(), values);
            assert_eq!(env.typed_vec::<u32>(keys, "b").unwrap(), [7, 9]);
            assert_eq!(
                env.typed_vec::<f64>(env.typed_array::<f64>(&[]).unwrap(), "c")
                    .unwrap(),
                []
            );
            let e = env.typed_vec::<f64>(keys, "nodeStats").unwrap_err();
            assert_eq!(e.message, "nodeStats must be a Float64Array");
            let e = env
                .typed_vec::<u32>(env.number(1.0).unwrap(), "nodeKeys")
                .unwrap_err();
            assert_eq!(e.message, "nodeKeys must be a Uint32Array");
            floats.raw()
        });
        node.share(floats);
        let e = node.run(|env| {
            // SAFETY: a handle of this fake node.
            let floats = unsafe { Value::from_raw(env, floats) };
            env.typed_vec::<f64>(floats, "nodeStats").unwrap_err()
        });
        assert!(e.type_error);
        assert_eq!(
            e.message,
            "nodeStats must be a Float64Array over an ArrayBuffer, not a SharedArrayBuffer"
        );
    }

    #[test]
    fn objects_are_built_and_read_by_name() {
        let node = Node::new();
        let keys = node.run(|env| {
            let o = env.object().unwrap();
            env.set(o, "PATH", env.string("/bin").unwrap()).unwrap();
            env.set(o, "LANG", env.string("C").unwrap()).unwrap();
            assert_eq!(
                env.to_string(env.get(o, "PATH").unwrap(), "p").unwrap(),
                "/bin"
            );
            assert!(env.is_nullish(env.get(o, "missing").unwrap()).unwrap());
            assert!(env.set(o, "a\0b", env.null().unwrap()).is_err());
            env.keys(o, "env").unwrap()
        });
        assert_eq!(keys, ["PATH", "LANG"]);
    }

    #[test]
    fn a_failed_call_names_the_function_or_reports_the_pending_exception() {
        let node = Node::new();
        node.fail("napi_create_object");
        let e = node.run(|env| env.object().err().unwrap());
        assert_eq!(e.message, "Node-API create_object failed (status 9)");
        assert!(!e.pending);
        node.heal("napi_create_object");
        node.set_exception(Val::Str("thrown".into()));
        let e = node.run(|env| env.get(env.object().unwrap(), "x").err().unwrap());
        assert!(e.pending);
    }
}
