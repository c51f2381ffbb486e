//! Rust data handed to JavaScript as externals, and taken back checked.
//!
//! An external is an opaque pointer, and any addon can make one, so its
//! data cannot be read before knowing who made it. Every external this
//! layer makes is marked with a Node-API type tag that only this loaded
//! copy of the layer knows (random per process and copy), and its data is a
//! `Tagged<T>` that starts with `T`'s `TypeId`. Reading one back checks the
//! tag first, so the data of a foreign external is never touched; the
//! `TypeId` then tells this copy's own types apart.

use crate::boundary::{abort_on_unwind, catch_panic, report};
use crate::env::Env;
use crate::env::Value;
use crate::error::{Error, Result};
use crate::sys::*;
use std::any::TypeId;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::os::raw::c_void;
use std::ptr::null_mut;
use std::sync::{Arc, OnceLock};

#[repr(C)]
struct Tagged<T> {
    /// First, at offset 0 whatever `T` is (repr(C)).
    type_id: TypeId,
    value: Arc<T>,
}

/// The tag of this copy of the layer: another addon, or another copy of
/// this one (e.g. a second build loaded from another path), has another.
pub(crate) fn addon_tag() -> &'static napi_type_tag {
    static TAG: OnceLock<napi_type_tag> = OnceLock::new();
    TAG.get_or_init(|| {
        // RandomState is keyed from the OS random source once per thread.
        let keys = RandomState::new();
        napi_type_tag {
            lower: keys.hash_one(0u8),
            upper: keys.hash_one(1u8),
        }
    })
}

/// Finalizer of the externals made by [`Env::external`].
///
/// # Safety
/// Node calls it once per external, with the data given at creation.
unsafe extern "C" fn drop_tagged<T: 'static>(
    _env: napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    abort_on_unwind("releasing a native handle", || {
        // SAFETY: `data` is the Box<Tagged<T>> leaked in Env::external, and
        // node calls this finalizer exactly once, after which the external
        // is gone, so nothing reads the box again.
        let tagged = unsafe { Box::from_raw(data.cast::<Tagged<T>>()) };
        if let Err(message) = catch_panic(move || drop(tagged)) {
            report(&format!(
                "a native handle panicked while being released (leaked): {message}"
            ));
        }
    });
}

impl<'e> Env<'e> {
    /// Hands shared Rust data to JavaScript; dropped when the value is collected.
    pub fn external<T: Send + Sync + 'static>(self, value: Arc<T>) -> Result<Value<'e>> {
        let tagged = Box::into_raw(Box::new(Tagged {
            type_id: TypeId::of::<T>(),
            value,
        }));
        // SAFETY: live env; `tagged` is a valid pointer whose ownership passes
        // to the external if the call succeeds; drop_tagged::<T> matches it.
        let external = self.make("create_external", |out| unsafe {
            napi_create_external(
                self.raw(),
                tagged.cast::<c_void>(),
                drop_tagged::<T>,
                null_mut(),
                out,
            )
        });
        let external = match external {
            Ok(v) => v,
            Err(e) => {
                // SAFETY: node did not take ownership, so we still own the box.
                drop(unsafe { Box::from_raw(tagged) });
                return Err(e);
            }
        };
        // SAFETY: live env and handle; the tag is a 'static napi_type_tag.
        // On failure the untagged external is unusable, and its finalizer
        // still frees the box when it is collected.
        let status = unsafe { napi_type_tag_object(self.raw(), external.raw(), addon_tag()) };
        self.check(status, "type_tag_object")?;
        Ok(external)
    }

    /// The data behind an external made by [`Env::external`] of this copy
    /// of the layer with the same `T`; a TypeError for anything else.
    pub fn get_external<T: Send + Sync + 'static>(
        self,
        v: Value<'e>,
        what: &str,
    ) -> Result<Arc<T>> {
        self.expect(v, NAPI_EXTERNAL, what, "a handle from this addon")?;
        let mut ours = false;
        self.check(
            // SAFETY: live handle; the tag is a 'static napi_type_tag; writes
            // one bool.
            unsafe { napi_check_object_type_tag(self.raw(), v.raw(), addon_tag(), &mut ours) },
            "check_object_type_tag",
        )?;
        if !ours {
            return Err(Error::type_error(format!(
                "{what} must be a handle from this addon, got an external of another addon"
            )));
        }
        let mut data: *mut c_void = null_mut();
        self.check(
            // SAFETY: `v` is an external; writes its data pointer.
            unsafe { napi_get_value_external(self.raw(), v.raw(), &mut data) },
            "get_value_external",
        )?;
        let header = data.cast::<TypeId>();
        // SAFETY: only Env::external tags values with this copy's tag, and
        // only externals whose data is a live Box<Tagged<U>> for some U; the
        // box lives until the external's finalizer, which cannot run while
        // `v` is held by this call. Tagged is repr(C) with the TypeId first,
        // so reading a TypeId at `data` is valid whatever U is.
        if unsafe { header.read() } != TypeId::of::<T>() {
            return Err(Error::type_error(format!(
                "{what} is a handle of another kind"
            )));
        }
        // SAFETY: as above, and the TypeId says U is T.
        Ok(unsafe { &*data.cast::<Tagged<T>>() }.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Node, Val};
    use crate::sys::NAPI_EXTERNAL;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn external_error<T: Send + Sync + 'static>(node: &Node, v: napi_value) -> Error {
        node.run(|env| {
            // SAFETY: `v` is a handle of this fake node.
            let v = unsafe { Value::from_raw(env, v) };
            env.get_external::<T>(v, "pool").err().expect("accepted")
        })
    }

    #[test]
    fn an_external_gives_back_the_data_it_was_made_with() {
        let node = Node::new();
        let data = Arc::new(41u32);
        let got = node.run(|env| {
            let v = env.external(data.clone()).unwrap();
            env.get_external::<u32>(v, "h").unwrap()
        });
        assert!(Arc::ptr_eq(&got, &data));
        node.assert_no_misuse();
    }

    #[test]
    fn an_external_of_another_type_from_this_addon_is_a_type_error() {
        let node = Node::new();
        let v = node.run(|env| env.external(Arc::new(1u32)).unwrap().raw());
        let e = external_error::<String>(&node, v);
        assert!(e.type_error);
        assert_eq!(e.message, "pool is a handle of another kind");
    }

    #[test]
    fn a_foreign_external_is_refused_without_reading_its_data() {
        let node = Node::new();
        // Data 0x1: dereferencing it would crash the test.
        let untagged = node.alloc(Val::External {
            data: 1,
            finalize: None,
            finalized: false,
            tag: None,
        });
        // Tagged by someone else, e.g. another copy of this layer.
        let other_tag = node.alloc(Val::External {
            data: 1,
            finalize: None,
            finalized: false,
            tag: Some((addon_tag().lower ^ 1, addon_tag().upper)),
        });
        for v in [untagged, other_tag] {
            let e = external_error::<u32>(&node, v);
            assert!(e.type_error);
            assert_eq!(
                e.message,
                "pool must be a handle from this addon, got an external of another addon"
            );
        }
    }

    #[test]
    fn a_value_that_is_no_external_is_a_type_error() {
        let node = Node::new();
        for (v, kind) in [
            (Val::Object(Vec::new()), "an object"),
            (Val::Null, "null"),
            (Val::Number(3.0), "a number"),
        ] {
            let v = node.alloc(v);
            let e = external_error::<u32>(&node, v);
            assert!(e.type_error);
            assert_eq!(
                e.message,
                format!("pool must be a handle from this addon, got {kind}")
            );
        }
        assert_eq!(crate::env::type_name(NAPI_EXTERNAL), "an external");
    }

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn collecting_an_external_drops_its_data_once() {
        let node = Node::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let v = node.run(|env| {
            env.external(Arc::new(Counted(drops.clone())))
                .unwrap()
                .raw()
        });
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        node.collect(v);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        node.assert_no_misuse();
    }

    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }

    #[test]
    fn a_panic_while_finalizing_is_reported_not_unwound_into_node() {
        let node = Node::new();
        let v = node.run(|env| env.external(Arc::new(PanicsOnDrop)).unwrap().raw());
        // Unwinding out of the finalizer would abort this test binary.
        node.collect(v);
        node.assert_no_misuse();
    }

    #[test]
    fn data_is_freed_when_the_external_cannot_be_made_or_tagged() {
        let drops = Arc::new(AtomicUsize::new(0));
        let node = Node::new();
        node.fail("napi_create_external");
        let made = node.run(|env| env.external(Arc::new(Counted(drops.clone()))).is_ok());
        assert!(!made);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "freed at once");

        let node = Node::new();
        node.fail("napi_type_tag_object");
        let made = node.run(|env| env.external(Arc::new(Counted(drops.clone()))).is_ok());
        assert!(!made);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "owned by the untagged external"
        );
        node.collect(node.last_external());
        assert_eq!(drops.load(Ordering::SeqCst), 2, "freed by its finalizer");
        node.assert_no_misuse();
    }

    #[test]
    fn the_tag_is_stable_within_a_copy_and_not_trivial() {
        assert_eq!(addon_tag(), addon_tag());
        assert_ne!(addon_tag().lower, addon_tag().upper);
    }
}
