//! Promises settled from any thread.
//!
//! A [`Completer`] owns a thread-safe function (which keeps the event loop
//! alive) and the promise's deferred. Settling queues the result; node runs
//! `settle_on_js_thread` on the JavaScript thread, which converts the result
//! and resolves or rejects the deferred exactly once.

use crate::boundary::{abort_on_unwind, catch_panic, report};
use crate::env::{with_env, Env, Value};
use crate::error::{Error, Result};
use crate::sys::*;
use std::marker::PhantomData;
use std::os::raw::c_void;
use std::ptr::null_mut;

/// Converts a result into JavaScript on the JavaScript thread.
pub type ToJs<T> = for<'e> fn(Env<'e>, T) -> Result<Value<'e>>;

impl<'e> Env<'e> {
    /// A promise and the means to settle it from any thread. While the
    /// completer is alive it keeps the event loop running.
    pub fn promise<T: Send + 'static>(self, to_js: ToJs<T>) -> Result<(Value<'e>, Completer<T>)> {
        let mut deferred: napi_deferred = null_mut();
        // SAFETY: live env; out-pointers for the deferred and the promise.
        let promise = self.make("create_promise", |out| unsafe {
            napi_create_promise(self.raw(), &mut deferred, out)
        })?;
        let created = self.string("ha-napi completion").and_then(|name| {
            let mut tsfn: napi_threadsafe_function = null_mut();
            // SAFETY: live env and name handle; no JS function (call_js does
            // the work, allowed since N-API 4), queue size 0 (unlimited), one
            // thread holds it until Completer::settle releases it.
            let status = unsafe {
                napi_create_threadsafe_function(
                    self.raw(),
                    null_mut(),
                    null_mut(),
                    name.raw(),
                    0,
                    1,
                    null_mut(),
                    None,
                    null_mut(),
                    settle_on_js_thread::<T>,
                    &mut tsfn,
                )
            };
            self.check(status, "create_threadsafe_function")
                .map(|()| tsfn)
        });
        match created {
            Ok(tsfn) => Ok((
                promise,
                Completer {
                    tsfn,
                    deferred,
                    to_js,
                    settled: false,
                    _t: PhantomData,
                },
            )),
            Err(e) => {
                // The promise is never returned, but its deferred is settled
                // all the same, which also frees it.
                self.conclude(deferred, Err(e.clone()));
                Err(e)
            }
        }
    }

    /// Resolves or rejects `deferred` with `outcome`, exactly once.
    pub(crate) fn conclude(self, deferred: napi_deferred, outcome: Result<Value<'e>>) {
        let error = match outcome {
            // A conversion that succeeded but left an exception pending
            // (resolving now would fail on it) rejects with that exception.
            Ok(value) if !value.raw().is_null() && !self.exception_pending() => {
                // SAFETY: `deferred` is unsettled (each one reaches conclude
                // once); live value; no exception pending, so node settles
                // it unless the environment is shutting down. A failure is
                // not retried: node may already have freed the deferred.
                unsafe { napi_resolve_deferred(self.raw(), deferred, value.raw()) };
                return;
            }
            Ok(value) if value.raw().is_null() => Error::new("native code produced no value"),
            Ok(_) => Error::pending(),
            Err(e) => e,
        };
        let reason = self.rejection(&error);
        // SAFETY: as for resolving; `rejection` leaves no exception pending.
        unsafe { napi_reject_deferred(self.raw(), deferred, reason.raw()) };
    }
}

/// Settles one promise from any thread. Dropping it unsettled rejects the
/// promise, so a JavaScript caller never waits forever.
pub struct Completer<T: Send + 'static> {
    tsfn: napi_threadsafe_function,
    deferred: napi_deferred,
    to_js: ToJs<T>,
    settled: bool,
    _t: PhantomData<T>,
}

// SAFETY: thread-safe functions are made to be called and released from any
// thread; the deferred is only used on the JavaScript thread, in
// settle_on_js_thread; `T: Send` and fn pointers are Send.
unsafe impl<T: Send + 'static> Send for Completer<T> {}

struct Settlement<T> {
    deferred: napi_deferred,
    to_js: ToJs<T>,
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
        // SAFETY: the tsfn is live until released below; blocking mode on an
        // unlimited queue never blocks. On success node owns `data` and hands
        // it to settle_on_js_thread once.
        let status = unsafe {
            napi_call_threadsafe_function(self.tsfn, data.cast::<c_void>(), NAPI_TSFN_BLOCKING)
        };
        if status != NAPI_OK {
            // The environment is shutting down and will never run the call
            // (no JavaScript is left to see the promise); we still own the
            // settlement.
            // SAFETY: node did not take `data`.
            let settlement = unsafe { Box::from_raw(data) };
            if let Err(message) = catch_panic(move || drop(settlement)) {
                report(&format!(
                    "dropping an undelivered result panicked: {message}"
                ));
            }
        }
        // SAFETY: this completer acquired the tsfn at creation (initial
        // thread count 1) and releases it exactly once, here.
        unsafe { napi_release_threadsafe_function(self.tsfn, NAPI_TSFN_RELEASE) };
    }
}

impl<T: Send + 'static> Drop for Completer<T> {
    fn drop(&mut self) {
        self.settle(Err(Error::with_code(
            "ERR_NATIVE_NO_RESULT",
            "the native operation ended without a result",
        )));
    }
}

impl<T> Settlement<T> {
    fn deliver(self, env: Env<'_>) {
        let Settlement {
            deferred,
            to_js,
            result,
        } = self;
        let outcome = catch_panic(move || result.and_then(|value| to_js(env, value)))
            .unwrap_or_else(|message| Err(Error::from_panic(&message)));
        env.conclude(deferred, outcome);
    }
}

/// The thread-safe function's `call_js`: runs on the JavaScript thread, or
/// with a null env while the environment is torn down.
///
/// # Safety
/// Node calls it once per queued item, with the data given to
/// `napi_call_threadsafe_function`.
unsafe extern "C" fn settle_on_js_thread<T: Send + 'static>(
    env: napi_env,
    _js_callback: napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    abort_on_unwind("settling a promise", || {
        // SAFETY: `data` is the Box<Settlement<T>> leaked in Completer::settle,
        // which node passes here exactly once.
        let settlement = unsafe { Box::from_raw(data.cast::<Settlement<T>>()) };
        if env.is_null() {
            // Teardown: no JavaScript will run again; only free the result.
            if let Err(message) = catch_panic(move || drop(settlement)) {
                report(&format!(
                    "dropping an undelivered result panicked: {message}"
                ));
            }
            return;
        }
        // SAFETY: node runs call_js on the JavaScript thread with the live
        // env, inside a handle scope of its own.
        unsafe { with_env(env, |env| settlement.deliver(env)) }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Node, Settled, Val};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// What the tests settle with; `Steps` says what the conversion does.
    enum Steps {
        Number(f64),
        Fail,
        Panic,
        /// Reads a property whose getter throws from the object at this
        /// handle address, then reports success.
        LeaveException(usize),
    }

    fn convert<'e>(env: Env<'e>, steps: Steps) -> Result<Value<'e>> {
        match steps {
            Steps::Number(n) => env.number(n),
            Steps::Fail => Err(Error::with_code("ERR_TEST", "conversion failed")),
            Steps::Panic => panic!("conversion panicked"),
            Steps::LeaveException(object) => {
                // SAFETY: a handle of this fake node.
                let object = unsafe { Value::from_raw(env, object as napi_value) };
                let _ = env.get(object, "boom");
                env.number(1.0)
            }
        }
    }

    /// A promise settled by `settle` on another thread, then delivered.
    fn settled(
        node: &Node,
        settle: impl FnOnce(Completer<Steps>) + Send + 'static,
    ) -> (Settled, Option<Val>) {
        delivered_failing(node, &[], settle)
    }

    /// As `settled`, with `failing` Node-API functions failing while the
    /// result is delivered.
    fn delivered_failing(
        node: &Node,
        failing: &[&'static str],
        settle: impl FnOnce(Completer<Steps>) + Send + 'static,
    ) -> (Settled, Option<Val>) {
        let promise = node.run(|env| {
            let (promise, completer) = env.promise(convert).unwrap();
            std::thread::spawn(move || settle(completer)).join().ok();
            promise.raw()
        });
        assert_eq!(
            node.promise(promise).0,
            Settled::Pending,
            "settled off the JS thread"
        );
        failing.iter().for_each(|f| node.fail(f));
        assert_eq!(node.pump(), 1);
        failing.iter().for_each(|f| node.heal(f));
        assert!(
            node.pending_exception().is_none(),
            "an exception was left pending"
        );
        node.assert_no_misuse();
        node.promise(promise)
    }

    fn error(code: Option<&str>, message: &str) -> Option<Val> {
        Some(Val::Error {
            type_error: false,
            code: code.map(Into::into),
            message: message.into(),
        })
    }

    #[test]
    fn a_result_from_another_thread_resolves_on_the_js_thread() {
        let node = Node::new();
        let (state, value) = settled(&node, |c| c.resolve(Steps::Number(4.0)));
        assert!(matches!(state, Settled::Resolved(_)));
        assert_eq!(value, Some(Val::Number(4.0)));
    }

    #[test]
    fn a_rejection_carries_its_code() {
        let node = Node::new();
        let (state, value) = settled(&node, |c| {
            c.reject(Error::with_code("ERR_POOL_CLOSED", "closed"))
        });
        assert!(matches!(state, Settled::Rejected(_)));
        assert_eq!(value, error(Some("ERR_POOL_CLOSED"), "closed"));
    }

    #[test]
    fn a_completer_dropped_unused_or_by_a_panicking_thread_rejects() {
        let node = Node::new();
        let (_, value) = settled(&node, drop);
        let no_result = error(
            Some("ERR_NATIVE_NO_RESULT"),
            "the native operation ended without a result",
        );
        assert_eq!(value, no_result);
        let (_, value) = settled(&node, |c| {
            let _held = c;
            panic!("worker died");
        });
        assert_eq!(value, no_result);
    }

    #[test]
    fn a_conversion_that_fails_or_panics_rejects() {
        let node = Node::new();
        let (_, value) = settled(&node, |c| c.resolve(Steps::Fail));
        assert_eq!(value, error(Some("ERR_TEST"), "conversion failed"));
        let (_, value) = settled(&node, |c| c.resolve(Steps::Panic));
        assert_eq!(
            value,
            error(
                Some("ERR_NATIVE_PANIC"),
                "internal error in native code: conversion panicked"
            )
        );
    }

    #[test]
    fn a_conversion_that_leaves_an_exception_rejects_with_it() {
        let node = Node::new();
        let getter = node.alloc(Val::ThrowingGetter("getter threw".into()));
        let object = node.alloc(Val::Object(vec![("boom".into(), getter as usize - 1)]));
        let object = object as usize;
        let (state, value) = settled(&node, move |c| c.resolve(Steps::LeaveException(object)));
        assert!(matches!(state, Settled::Rejected(_)));
        assert_eq!(value, error(None, "getter threw"));
    }

    #[test]
    fn a_rejection_whose_error_cannot_be_made_still_rejects() {
        let node = Node::new();
        let reject = |c: Completer<Steps>| c.reject(Error::new("disk on fire"));
        let (state, value) = delivered_failing(&node, &["napi_create_error"], reject);
        assert!(matches!(state, Settled::Rejected(_)));
        assert_eq!(value, Some(Val::Str("disk on fire".into())));

        let nothing = ["napi_create_error", "napi_create_string_utf8"];
        let (state, value) = delivered_failing(&node, &nothing, reject);
        assert!(matches!(state, Settled::Rejected(_)));
        assert_eq!(value, Some(Val::Undefined));
    }

    #[test]
    fn a_failing_value_conversion_rejects_with_the_fallback_error() {
        let node = Node::new();
        node.fail("napi_create_double");
        let (state, value) = settled(&node, |c| c.resolve(Steps::Number(1.0)));
        assert!(matches!(state, Settled::Rejected(_)));
        assert_eq!(
            value,
            error(None, "Node-API create_double failed (status 9)")
        );
    }

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn never<'e>(env: Env<'e>, _: Counted) -> Result<Value<'e>> {
        Ok(env.undefined())
    }

    #[test]
    fn at_teardown_results_are_freed_without_javascript() {
        let drops = Arc::new(AtomicUsize::new(0));
        let node = Node::new();
        let (early, late) =
            node.run(|env| (env.promise(never).unwrap().1, env.promise(never).unwrap().1));
        early.resolve(Counted(drops.clone()));
        assert_eq!(node.teardown(), 1, "queued call runs with a null env");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // After teardown node refuses the call; the result is freed here.
        late.resolve(Counted(drops.clone()));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(node.promises(), vec![Settled::Pending, Settled::Pending]);
        node.assert_no_misuse();
    }

    #[test]
    fn a_promise_whose_completion_cannot_be_set_up_is_rejected_anyway() {
        let node = Node::new();
        node.fail("napi_create_threadsafe_function");
        let made = node.run(|env| env.promise(convert).is_ok());
        assert!(!made);
        assert!(matches!(node.promises()[..], [Settled::Rejected(_)]));
        node.assert_no_misuse();
    }

    #[test]
    fn many_promises_settled_from_many_threads_all_settle_once() {
        let node = Node::new();
        let promises: Vec<napi_value> = node.run(|env| {
            let mut promises = Vec::new();
            let mut threads = Vec::new();
            for i in 0..64 {
                let (p, c) = env.promise(convert).unwrap();
                promises.push(p.raw());
                threads.push(std::thread::spawn(move || match i % 4 {
                    0 => c.resolve(Steps::Number(i as f64)),
                    1 => c.reject(Error::new("no")),
                    2 => drop(c),
                    _ => c.resolve(Steps::Panic),
                }));
            }
            for t in threads {
                t.join().unwrap();
            }
            promises
        });
        assert_eq!(node.pump(), 64);
        for (i, p) in promises.into_iter().enumerate() {
            let (state, _) = node.promise(p);
            match i % 4 {
                0 => assert!(matches!(state, Settled::Resolved(_)), "{i}"),
                _ => assert!(matches!(state, Settled::Rejected(_)), "{i}"),
            }
        }
        node.assert_no_misuse();
    }
}
