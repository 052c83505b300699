//! [`ContiguousUniformPool`]: dense storage behind copyable keys and stable
//! proxies.
//!
//! A pool keeps its objects densely, with no gaps, in one buffer, like a
//! `Vec`: removing one moves the last object into the hole, and the buffer
//! doubles when full and halves when three quarters empty. Code never
//! holds the address of an object beyond a borrow; it holds a handle that
//! goes through a stable *slot* holding the object's position, which the
//! pool rewrites whenever the object moves (a back-pointer per object
//! names its slot):
//!
//! - a **key** ([`DefaultKey`], or a type made with [`new_key_type!`]):
//!   `Copy`, `'static`, 8 bytes, generation-checked (a lookup returns
//!   `None` once the object is gone), held in any struct beside the pool.
//!   A key carries no pool id (it is a `slotmap` key): another pool of the
//!   same key type may find an object with it, so pools whose keys could
//!   be mixed up get key types of their own ([`new_key_type!`]), and keys
//!   that come from outside the program (a client's session token) are
//!   better a [`UniformPool`](crate::uniform::UniformPool)'s, whose
//!   [`PoolKey`](crate::uniform::PoolKey)s refuse another pool's;
//! - a **[`Proxy`]**: the pool, the key and the object's last known
//!   position (a pointer and 16 bytes), owns its object
//!   (dropping it removes the object), borrows the pool, and carries the
//!   object's field accessors and forwarded methods.
//!
//! Access goes through closures ([`Proxy::with`], [`Proxy::with_mut`]),
//! guards ([`ContiguousUniformPool::get`], [`ContiguousUniformPool::borrow`]),
//! the accessors `#[derive(Managed)]` generates, and the methods
//! `#[managed::forward]` forwards; whole-pool walks
//! ([`ContiguousUniformPool::map`], [`map_with_key`](ContiguousUniformPool::map_with_key),
//! [`map_with_others`](ContiguousUniformPool::map_with_others),
//! [`retain`](ContiguousUniformPool::retain)) run at slice speed, and may
//! queue objects ([`insert_deferred`](ContiguousUniformPool::insert_deferred),
//! [`insert_with_key_deferred`](ContiguousUniformPool::insert_with_key_deferred))
//! and remove them ([`remove_deferred`](ContiguousUniformPool::remove_deferred))
//! as they go.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct MyStruct {
//!     a: i32,
//!     name: String,
//! }
//!
//! #[managed::forward]
//! impl MyStruct {
//!     /// Twice `a`.
//!     pub fn double(&self) -> i32 {
//!         2 * self.a
//!     }
//! }
//!
//! let pool = ContiguousUniformPool::new();
//! let p = pool.alloc(MyStruct { a: 76, name: "p".into() });
//! let q = pool.insert(MyStruct { a: 1, name: "q".into() }); // a key
//! p.with_mut(|s| s.a += 1);
//! assert_eq!((p.a(), p.double()), (77, 154));
//! assert_eq!(p.with_name(|n| n.len()), 1); // lends the field, no clone
//! pool.map(|instance: &mut MyStruct| instance.a *= 2);
//! pool.map_with_key(|key, instance| {
//!     if key == q {
//!         instance.name.push('!');
//!     }
//! });
//! assert_eq!(pool.get(q).map(|s| s.name.clone()), Some("q!".to_owned()));
//! assert_eq!((p.a(), pool.len()), (154, 2));
//!
//! // A standalone object owns its own storage.
//! let s = SimpleProxy::new(MyStruct { a: 5, name: String::new() });
//! assert_eq!(s.double(), 10);
//! ```
//!
//! The borrow rules that make this sound are on [`ContiguousUniformPool`].

mod access;
mod guards;
#[cfg(feature = "rayon")]
mod par;
mod pool;
mod proxy;
mod raw;
mod simple;

pub use access::{Access, Fields};
pub use pool::{ContiguousStats, ContiguousUniformPool};
pub use raw::guards::{ObjectMut, ObjectRef, Others, PoolLookup, PoolRef, PoolRefMut};
pub use raw::iter::{Drain, IntoIter, Iter, IterMut, Keys, Values, ValuesMut};
pub use raw::proxy::Proxy;
pub use simple::SimpleProxy;

/// The key types of the pool, from [`slotmap`]: [`DefaultKey`], the [`Key`]
/// trait every key type implements, the [`KeyData`] inside every key (for
/// FFI, and for serde with slotmap's `serde` feature), and
/// [`new_key_type!`] to declare a key type per pool, so that keys of
/// different pools cannot be mixed up.
pub use slotmap::{DefaultKey, Key, KeyData, new_key_type};
