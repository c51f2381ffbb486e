//! A fake node for the layer's unit tests: every Node-API function `sys.rs`
//! declares, defined over a small value heap, so the test binary links
//! without node. It follows the documented behaviour where the layer
//! depends on it (pending exceptions block property access, type tagging
//! and settling; a deferred is freed when settled; a thread-safe function
//! queues calls until the JavaScript thread runs them, or runs them with a
//! null env at teardown), and any function can be made to fail on demand,
//! which a real node cannot be made to do. Misuse that would be undefined
//! behaviour in node (settling twice, finalizing twice) is recorded and
//! checked by every test.
//!
//! Test double: the raw pointers here are the ones the layer under test
//! passes, so per-block safety comments would only repeat that.
#![allow(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc
)]

use crate::env::{with_env, Env};
use crate::sys::*;
use std::collections::{HashSet, VecDeque};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::{Mutex, MutexGuard};

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Object(Vec<(String, usize)>),
    Array(Vec<usize>),
    /// A property whose getter throws an Error with this message.
    ThrowingGetter(String),
    Function {
        cb: usize,
        data: usize,
    },
    External {
        data: usize,
        finalize: Option<usize>,
        finalized: bool,
        tag: Option<(u64, u64)>,
    },
    Error {
        type_error: bool,
        code: Option<String>,
        message: String,
    },
    Promise(Settled),
    ArrayBuffer {
        words: Vec<u64>,
        bytes: usize,
        shared: bool,
    },
    TypedArray {
        kind: c_int,
        buffer: usize,
        len: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Settled {
    Pending,
    Resolved(usize),
    Rejected(usize),
}

#[derive(Default)]
struct State {
    values: Vec<Val>,
    exception: Option<usize>,
    failing: HashSet<&'static str>,
    /// (tsfn, data) as addresses: queued calls for the JS thread.
    queue: VecDeque<(usize, usize)>,
    closing: bool,
    misuse: Vec<String>,
}

pub struct Node {
    state: Mutex<State>,
}

struct Tsfn {
    node: *const Node,
    call_js: napi_threadsafe_function_call_js,
    holders: Mutex<usize>,
}

struct CallInfo {
    args: Vec<napi_value>,
    data: *mut c_void,
}

fn handle(index: usize) -> napi_value {
    (index + 1) as napi_value
}

fn index(v: napi_value) -> Option<usize> {
    (v as usize).checked_sub(1)
}

unsafe fn node<'a>(env: napi_env) -> &'a Node {
    &*(env as *const Node)
}

unsafe fn put<T>(out: *mut T, value: T) {
    *out = value;
}

impl Node {
    pub fn new() -> Box<Node> {
        Box::new(Node {
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn env(&self) -> napi_env {
        self as *const Node as napi_env
    }

    /// Runs `f` as if in a callback of this node.
    pub fn run<R>(&self, f: impl for<'e> FnOnce(Env<'e>) -> R) -> R {
        // SAFETY: the fake env lives as long as `self`; tests run callbacks
        // on one thread at a time per node.
        unsafe { with_env(self.env(), f) }
    }

    pub fn fail(&self, function: &'static str) {
        self.lock().failing.insert(function);
    }

    pub fn heal(&self, function: &'static str) {
        self.lock().failing.remove(function);
    }

    pub fn value(&self, v: napi_value) -> Val {
        let st = self.lock();
        index(v)
            .and_then(|i| st.values.get(i).cloned())
            .expect("a live handle")
    }

    pub fn alloc(&self, v: Val) -> napi_value {
        let mut st = self.lock();
        st.values.push(v);
        handle(st.values.len() - 1)
    }

    pub fn pending_exception(&self) -> Option<Val> {
        let st = self.lock();
        st.exception.map(|i| st.values[i].clone())
    }

    pub fn set_exception(&self, v: Val) {
        let mut st = self.lock();
        st.values.push(v);
        st.exception = Some(st.values.len() - 1);
    }

    /// The state of a promise, with the value it settled with.
    pub fn promise(&self, promise: napi_value) -> (Settled, Option<Val>) {
        let st = self.lock();
        match &st.values[index(promise).expect("a handle")] {
            Val::Promise(s) => {
                let value = match s {
                    Settled::Pending => None,
                    Settled::Resolved(i) | Settled::Rejected(i) => Some(st.values[*i].clone()),
                };
                (s.clone(), value)
            }
            other => panic!("not a promise: {other:?}"),
        }
    }

    /// Every promise made so far, in order.
    pub fn promises(&self) -> Vec<Settled> {
        let st = self.lock();
        st.values
            .iter()
            .filter_map(|v| match v {
                Val::Promise(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// The most recently made external.
    pub fn last_external(&self) -> napi_value {
        let st = self.lock();
        let i = st
            .values
            .iter()
            .rposition(|v| matches!(v, Val::External { .. }))
            .expect("an external");
        handle(i)
    }

    /// Makes the buffer behind a typed array a SharedArrayBuffer.
    pub fn share(&self, typed_array: napi_value) {
        let mut st = self.lock();
        let Val::TypedArray { buffer, .. } = st.values[index(typed_array).expect("a handle")]
        else {
            panic!("not a typed array");
        };
        if let Val::ArrayBuffer { shared, .. } = &mut st.values[buffer] {
            *shared = true;
        }
    }

    /// Runs the thread-safe function calls queued so far, as node's event
    /// loop would on the JavaScript thread; returns how many ran.
    pub fn pump(&self) -> usize {
        self.drain(self.env())
    }

    /// Tears the environment down: queued calls run with a null env, and
    /// later calls are refused as closing.
    pub fn teardown(&self) -> usize {
        self.lock().closing = true;
        self.drain(std::ptr::null_mut())
    }

    fn drain(&self, env: napi_env) -> usize {
        let mut ran = 0;
        loop {
            let next = self.lock().queue.pop_front();
            let Some((tsfn, data)) = next else {
                return ran;
            };
            let tsfn = unsafe { &*(tsfn as *const Tsfn) };
            unsafe { (tsfn.call_js)(env, std::ptr::null_mut(), std::ptr::null_mut(), data as _) };
            ran += 1;
        }
    }

    /// Collects an external, as the garbage collector would: runs its
    /// finalizer (once; a second time is recorded as misuse).
    pub fn collect(&self, external: napi_value) {
        let (data, finalize) = {
            let mut st = self.lock();
            let i = index(external).expect("a handle");
            match &mut st.values[i] {
                Val::External {
                    data,
                    finalize,
                    finalized,
                    ..
                } => {
                    let first = !*finalized;
                    *finalized = true;
                    let call = (*data, *finalize);
                    if !first {
                        st.misuse.push("external finalized twice".into());
                        return;
                    }
                    call
                }
                other => panic!("not an external: {other:?}"),
            }
        };
        if let Some(f) = finalize {
            let f: napi_finalize = unsafe { std::mem::transmute::<usize, napi_finalize>(f) };
            unsafe { f(self.env(), data as *mut c_void, std::ptr::null_mut()) };
        }
    }

    /// Calls a function made with `napi_create_function`, as JavaScript
    /// would; returns its result handle (null when it threw).
    pub fn call(&self, function: napi_value, args: &[napi_value]) -> napi_value {
        let (cb, data) = match self.value(function) {
            Val::Function { cb, data } => (cb, data),
            other => panic!("not a function: {other:?}"),
        };
        let info = CallInfo {
            args: args.to_vec(),
            data: data as *mut c_void,
        };
        let cb: napi_callback = unsafe { std::mem::transmute::<usize, napi_callback>(cb) };
        unsafe { cb(self.env(), &info as *const CallInfo as napi_callback_info) }
    }

    /// Panics if the layer did anything node forbids.
    pub fn assert_no_misuse(&self) {
        let st = self.lock();
        assert!(st.misuse.is_empty(), "misuse: {:?}", st.misuse);
    }
}

/// The body of every fake: the node, its state, and early returns for an
/// injected failure.
macro_rules! fake {
    ($name:literal, $env:expr, |$st:ident| $body:block) => {{
        let node = unsafe { node($env) };
        let mut guard = node.lock();
        if guard.failing.contains($name) {
            return NAPI_GENERIC_FAILURE;
        }
        let $st: &mut State = &mut guard;
        $body
    }};
}

/// Node's NAPI_PREAMBLE: refuse while an exception is pending.
macro_rules! preamble {
    ($st:ident) => {
        if $st.exception.is_some() {
            return NAPI_PENDING_EXCEPTION;
        }
    };
}

fn new_value(st: &mut State, v: Val) -> napi_value {
    st.values.push(v);
    handle(st.values.len() - 1)
}

fn get(st: &State, v: napi_value) -> Option<&Val> {
    index(v).and_then(|i| st.values.get(i))
}

unsafe fn c_str(p: *const c_char) -> String {
    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
}

unsafe fn utf8(p: *const c_char, len: usize) -> String {
    String::from_utf8_lossy(std::slice::from_raw_parts(p.cast::<u8>(), len)).into_owned()
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_function(
    env: napi_env,
    _name: *const c_char,
    _length: usize,
    cb: napi_callback,
    data: *mut c_void,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_function", env, |st| {
        let f = Val::Function {
            cb: cb as usize,
            data: data as usize,
        };
        put(result, new_value(st, f));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_cb_info(
    env: napi_env,
    info: napi_callback_info,
    argc: *mut usize,
    argv: *mut napi_value,
    _this_arg: *mut napi_value,
    data: *mut *mut c_void,
) -> napi_status {
    fake!("napi_get_cb_info", env, |_st| {
        let info = &*(info as *const CallInfo);
        let room = *argc;
        for (i, a) in info.args.iter().take(room).enumerate() {
            *argv.add(i) = *a;
        }
        put(argc, info.args.len());
        put(data, info.data);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_undefined(env: napi_env, result: *mut napi_value) -> napi_status {
    fake!("napi_get_undefined", env, |st| {
        put(result, new_value(st, Val::Undefined));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_null(env: napi_env, result: *mut napi_value) -> napi_status {
    fake!("napi_get_null", env, |st| {
        put(result, new_value(st, Val::Null));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_boolean(
    env: napi_env,
    value: bool,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_get_boolean", env, |st| {
        put(result, new_value(st, Val::Bool(value)));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_double(
    env: napi_env,
    value: f64,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_double", env, |st| {
        put(result, new_value(st, Val::Number(value)));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_string_utf8(
    env: napi_env,
    s: *const c_char,
    len: usize,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_string_utf8", env, |st| {
        put(result, new_value(st, Val::Str(utf8(s, len))));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_object(env: napi_env, result: *mut napi_value) -> napi_status {
    fake!("napi_create_object", env, |st| {
        put(result, new_value(st, Val::Object(Vec::new())));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_array_with_length(
    env: napi_env,
    length: usize,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_array_with_length", env, |st| {
        let undefined = new_value(st, Val::Undefined);
        let Some(u) = index(undefined) else {
            return NAPI_INVALID_ARG;
        };
        put(result, new_value(st, Val::Array(vec![u; length])));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_set_element(
    env: napi_env,
    object: napi_value,
    i: u32,
    value: napi_value,
) -> napi_status {
    fake!("napi_set_element", env, |st| {
        preamble!(st);
        let (Some(o), Some(v)) = (index(object), index(value)) else {
            return NAPI_INVALID_ARG;
        };
        match &mut st.values[o] {
            Val::Array(items) => {
                let i = i as usize;
                if items.len() <= i {
                    items.resize(i + 1, v);
                }
                items[i] = v;
            }
            _ => return 8, // napi_array_expected
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_typeof(
    env: napi_env,
    value: napi_value,
    result: *mut c_int,
) -> napi_status {
    fake!("napi_typeof", env, |st| {
        let kind = match get(st, value) {
            None => return NAPI_INVALID_ARG,
            Some(Val::Undefined) => NAPI_UNDEFINED,
            Some(Val::Null) => NAPI_NULL,
            Some(Val::Bool(_)) => NAPI_BOOLEAN,
            Some(Val::Number(_)) => NAPI_NUMBER,
            Some(Val::Str(_)) => NAPI_STRING,
            Some(Val::Function { .. }) => NAPI_FUNCTION,
            Some(Val::External { .. }) => NAPI_EXTERNAL,
            Some(_) => NAPI_OBJECT,
        };
        put(result, kind);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_array(
    env: napi_env,
    value: napi_value,
    result: *mut bool,
) -> napi_status {
    fake!("napi_is_array", env, |st| {
        put(result, matches!(get(st, value), Some(Val::Array(_))));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_double(
    env: napi_env,
    value: napi_value,
    result: *mut f64,
) -> napi_status {
    fake!("napi_get_value_double", env, |st| {
        match get(st, value) {
            Some(Val::Number(n)) => put(result, *n),
            _ => return 6, // napi_number_expected
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_bool(
    env: napi_env,
    value: napi_value,
    result: *mut bool,
) -> napi_status {
    fake!("napi_get_value_bool", env, |st| {
        match get(st, value) {
            Some(Val::Bool(b)) => put(result, *b),
            _ => return 7, // napi_boolean_expected
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_string_utf8(
    env: napi_env,
    value: napi_value,
    buf: *mut c_char,
    bufsize: usize,
    result: *mut usize,
) -> napi_status {
    fake!("napi_get_value_string_utf8", env, |st| {
        let Some(Val::Str(s)) = get(st, value) else {
            return 3; // napi_string_expected
        };
        if buf.is_null() {
            put(result, s.len());
        } else {
            let n = s.len().min(bufsize.saturating_sub(1));
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
            put(result, n);
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_set_named_property(
    env: napi_env,
    object: napi_value,
    name: *const c_char,
    value: napi_value,
) -> napi_status {
    fake!("napi_set_named_property", env, |st| {
        preamble!(st);
        let (Some(o), Some(v)) = (index(object), index(value)) else {
            return NAPI_INVALID_ARG;
        };
        let name = c_str(name);
        match &mut st.values[o] {
            Val::Object(props) => {
                props.retain(|(k, _)| *k != name);
                props.push((name, v));
            }
            _ => return 2, // napi_object_expected
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_named_property(
    env: napi_env,
    object: napi_value,
    name: *const c_char,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_get_named_property", env, |st| {
        preamble!(st);
        let name = c_str(name);
        let found = match get(st, object) {
            Some(Val::Object(props)) => props.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
            Some(_) => None,
            None => return NAPI_INVALID_ARG,
        };
        match found.map(|i| st.values[i].clone()) {
            Some(Val::ThrowingGetter(message)) => {
                let e = new_value(
                    st,
                    Val::Error {
                        type_error: false,
                        code: None,
                        message,
                    },
                );
                st.exception = index(e);
                NAPI_PENDING_EXCEPTION
            }
            Some(_) => {
                put(result, handle(found.unwrap_or_default()));
                NAPI_OK
            }
            None => {
                put(result, new_value(st, Val::Undefined));
                NAPI_OK
            }
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_property_names(
    env: napi_env,
    object: napi_value,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_get_property_names", env, |st| {
        preamble!(st);
        let keys: Vec<String> = match get(st, object) {
            Some(Val::Object(props)) => props.iter().map(|(k, _)| k.clone()).collect(),
            _ => return 2,
        };
        let items = keys
            .into_iter()
            .map(|k| index(new_value(st, Val::Str(k))).unwrap_or_default())
            .collect();
        put(result, new_value(st, Val::Array(items)));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_element(
    env: napi_env,
    object: napi_value,
    i: u32,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_get_element", env, |st| {
        preamble!(st);
        let item = match get(st, object) {
            Some(Val::Array(items)) => items.get(i as usize).copied(),
            _ => return 8, // napi_array_expected
        };
        let v = match item {
            Some(item) => handle(item),
            None => new_value(st, Val::Undefined),
        };
        put(result, v);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_array_length(
    env: napi_env,
    value: napi_value,
    result: *mut u32,
) -> napi_status {
    fake!("napi_get_array_length", env, |st| {
        match get(st, value) {
            Some(Val::Array(items)) => put(result, items.len() as u32),
            _ => return 8,
        }
        NAPI_OK
    })
}

fn element_size(kind: c_int) -> usize {
    match kind {
        NAPI_FLOAT64_ARRAY => 8,
        NAPI_UINT32_ARRAY => 4,
        _ => 1,
    }
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_arraybuffer(
    env: napi_env,
    byte_length: usize,
    data: *mut *mut c_void,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_arraybuffer", env, |st| {
        let buffer = new_value(
            st,
            Val::ArrayBuffer {
                words: vec![0; byte_length.div_ceil(8)],
                bytes: byte_length,
                shared: false,
            },
        );
        // The words never move: values are only pushed, never resized.
        let Some(Val::ArrayBuffer { words, .. }) = get(st, buffer) else {
            unreachable!()
        };
        put(data, words.as_ptr() as *mut c_void);
        put(result, buffer);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_typedarray(
    env: napi_env,
    kind: c_int,
    length: usize,
    arraybuffer: napi_value,
    byte_offset: usize,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_typedarray", env, |st| {
        let Some(Val::ArrayBuffer { bytes, .. }) = get(st, arraybuffer) else {
            return 19; // napi_arraybuffer_expected
        };
        if byte_offset != 0 || length * element_size(kind) > *bytes {
            return NAPI_INVALID_ARG;
        }
        let buffer = index(arraybuffer).unwrap_or_default();
        let v = new_value(
            st,
            Val::TypedArray {
                kind,
                buffer,
                len: length,
            },
        );
        put(result, v);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_arraybuffer(
    env: napi_env,
    value: napi_value,
    result: *mut bool,
) -> napi_status {
    fake!("napi_is_arraybuffer", env, |st| {
        let ordinary = matches!(get(st, value), Some(Val::ArrayBuffer { shared: false, .. }));
        put(result, ordinary);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_typedarray(
    env: napi_env,
    value: napi_value,
    result: *mut bool,
) -> napi_status {
    fake!("napi_is_typedarray", env, |st| {
        put(
            result,
            matches!(get(st, value), Some(Val::TypedArray { .. })),
        );
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_typedarray_info(
    env: napi_env,
    typedarray: napi_value,
    kind: *mut c_int,
    length: *mut usize,
    data: *mut *mut c_void,
    arraybuffer: *mut napi_value,
    byte_offset: *mut usize,
) -> napi_status {
    fake!("napi_get_typedarray_info", env, |st| {
        let Some(&Val::TypedArray {
            kind: k,
            buffer,
            len,
        }) = get(st, typedarray)
        else {
            return NAPI_INVALID_ARG;
        };
        let Val::ArrayBuffer { words, .. } = &st.values[buffer] else {
            return NAPI_INVALID_ARG;
        };
        let ptr = words.as_ptr() as *mut c_void;
        if !kind.is_null() {
            put(kind, k);
        }
        if !length.is_null() {
            put(length, len);
        }
        if !data.is_null() {
            put(data, ptr);
        }
        if !arraybuffer.is_null() {
            put(arraybuffer, handle(buffer));
        }
        if !byte_offset.is_null() {
            put(byte_offset, 0);
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_external(
    env: napi_env,
    data: *mut c_void,
    finalize_cb: napi_finalize,
    _finalize_hint: *mut c_void,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_external", env, |st| {
        let v = Val::External {
            data: data as usize,
            finalize: Some(finalize_cb as usize),
            finalized: false,
            tag: None,
        };
        put(result, new_value(st, v));
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_value_external(
    env: napi_env,
    value: napi_value,
    result: *mut *mut c_void,
) -> napi_status {
    fake!("napi_get_value_external", env, |st| {
        match get(st, value) {
            Some(Val::External { data, .. }) => put(result, *data as *mut c_void),
            _ => return NAPI_INVALID_ARG,
        }
        NAPI_OK
    })
}

fn raise(st: &mut State, type_error: bool, code: *const c_char, msg: *const c_char) -> napi_status {
    if st.exception.is_some() {
        return NAPI_PENDING_EXCEPTION;
    }
    // SAFETY: see the module comment.
    let code = (!code.is_null()).then(|| unsafe { c_str(code) });
    let message = unsafe { c_str(msg) };
    let e = new_value(
        st,
        Val::Error {
            type_error,
            code,
            message,
        },
    );
    st.exception = index(e);
    NAPI_OK
}

#[no_mangle]
pub unsafe extern "C" fn napi_throw_error(
    env: napi_env,
    code: *const c_char,
    msg: *const c_char,
) -> napi_status {
    fake!("napi_throw_error", env, |st| {
        raise(st, false, code, msg)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_throw_type_error(
    env: napi_env,
    code: *const c_char,
    msg: *const c_char,
) -> napi_status {
    fake!("napi_throw_type_error", env, |st| {
        raise(st, true, code, msg)
    })
}

fn make_error(
    st: &mut State,
    type_error: bool,
    code: napi_value,
    msg: napi_value,
    result: *mut napi_value,
) -> napi_status {
    let code = match get(st, code) {
        None if code.is_null() => None,
        Some(Val::Str(c)) => Some(c.clone()),
        _ => return 3,
    };
    let Some(Val::Str(message)) = get(st, msg).cloned() else {
        return 3;
    };
    let e = new_value(
        st,
        Val::Error {
            type_error,
            code,
            message,
        },
    );
    // SAFETY: see the module comment.
    unsafe { put(result, e) };
    NAPI_OK
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_error(
    env: napi_env,
    code: napi_value,
    msg: napi_value,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_error", env, |st| {
        make_error(st, false, code, msg, result)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_type_error(
    env: napi_env,
    code: napi_value,
    msg: napi_value,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_create_type_error", env, |st| {
        make_error(st, true, code, msg, result)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_is_exception_pending(
    env: napi_env,
    result: *mut bool,
) -> napi_status {
    fake!("napi_is_exception_pending", env, |st| {
        put(result, st.exception.is_some());
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_get_and_clear_last_exception(
    env: napi_env,
    result: *mut napi_value,
) -> napi_status {
    fake!("napi_get_and_clear_last_exception", env, |st| {
        let v = match st.exception.take() {
            Some(i) => handle(i),
            None => new_value(st, Val::Undefined),
        };
        put(result, v);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_type_tag_object(
    env: napi_env,
    value: napi_value,
    type_tag: *const napi_type_tag,
) -> napi_status {
    fake!("napi_type_tag_object", env, |st| {
        preamble!(st);
        let wanted = ((*type_tag).lower, (*type_tag).upper);
        match index(value).and_then(|i| st.values.get_mut(i)) {
            Some(Val::External {
                tag: tag @ None, ..
            }) => *tag = Some(wanted),
            _ => return NAPI_INVALID_ARG,
        }
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_check_object_type_tag(
    env: napi_env,
    value: napi_value,
    type_tag: *const napi_type_tag,
    result: *mut bool,
) -> napi_status {
    fake!("napi_check_object_type_tag", env, |st| {
        preamble!(st);
        let wanted = ((*type_tag).lower, (*type_tag).upper);
        let matches = match get(st, value) {
            Some(Val::External { tag, .. }) => *tag == Some(wanted),
            Some(Val::Object(_)) => false,
            _ => return 2,
        };
        put(result, matches);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_promise(
    env: napi_env,
    deferred: *mut napi_deferred,
    promise: *mut napi_value,
) -> napi_status {
    fake!("napi_create_promise", env, |st| {
        let p = new_value(st, Val::Promise(Settled::Pending));
        put(deferred, p as napi_deferred);
        put(promise, p);
        NAPI_OK
    })
}

fn conclude(
    st: &mut State,
    deferred: napi_deferred,
    value: napi_value,
    resolve: bool,
) -> napi_status {
    if st.exception.is_some() {
        return NAPI_PENDING_EXCEPTION; // not consumed
    }
    let Some(v) = index(value) else {
        return NAPI_INVALID_ARG; // not consumed
    };
    let Some(p) = index(deferred as napi_value) else {
        st.misuse.push("settled a null deferred".into());
        return NAPI_INVALID_ARG;
    };
    match &mut st.values[p] {
        Val::Promise(s @ Settled::Pending) => {
            *s = if resolve {
                Settled::Resolved(v)
            } else {
                Settled::Rejected(v)
            };
            NAPI_OK
        }
        _ => {
            st.misuse
                .push("deferred settled twice (use after free)".into());
            NAPI_GENERIC_FAILURE
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn napi_resolve_deferred(
    env: napi_env,
    deferred: napi_deferred,
    value: napi_value,
) -> napi_status {
    fake!("napi_resolve_deferred", env, |st| {
        conclude(st, deferred, value, true)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_reject_deferred(
    env: napi_env,
    deferred: napi_deferred,
    value: napi_value,
) -> napi_status {
    fake!("napi_reject_deferred", env, |st| {
        conclude(st, deferred, value, false)
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_create_threadsafe_function(
    env: napi_env,
    _func: napi_value,
    _async_resource: napi_value,
    _async_resource_name: napi_value,
    _max_queue_size: usize,
    initial_thread_count: usize,
    _thread_finalize_data: *mut c_void,
    _thread_finalize_cb: Option<napi_finalize>,
    _context: *mut c_void,
    call_js_cb: napi_threadsafe_function_call_js,
    result: *mut napi_threadsafe_function,
) -> napi_status {
    fake!("napi_create_threadsafe_function", env, |_st| {
        // Leaked: a test's few functions live as long as the test binary.
        let tsfn = Box::into_raw(Box::new(Tsfn {
            node: env as *const Node,
            call_js: call_js_cb,
            holders: Mutex::new(initial_thread_count),
        }));
        put(result, tsfn as napi_threadsafe_function);
        NAPI_OK
    })
}

#[no_mangle]
pub unsafe extern "C" fn napi_call_threadsafe_function(
    func: napi_threadsafe_function,
    data: *mut c_void,
    _mode: c_int,
) -> napi_status {
    let tsfn = &*(func as *const Tsfn);
    if *tsfn.holders.lock().unwrap_or_else(|p| p.into_inner()) == 0 {
        return NAPI_INVALID_ARG; // use after release
    }
    let mut st = (*tsfn.node).lock();
    if st.closing {
        return NAPI_CLOSING;
    }
    st.queue.push_back((func as usize, data as usize));
    NAPI_OK
}

#[no_mangle]
pub unsafe extern "C" fn napi_release_threadsafe_function(
    func: napi_threadsafe_function,
    _mode: c_int,
) -> napi_status {
    let tsfn = &*(func as *const Tsfn);
    let mut holders = tsfn.holders.lock().unwrap_or_else(|p| p.into_inner());
    if *holders == 0 {
        (*tsfn.node)
            .lock()
            .misuse
            .push("tsfn released twice".into());
        return NAPI_INVALID_ARG;
    }
    *holders -= 1;
    NAPI_OK
}
