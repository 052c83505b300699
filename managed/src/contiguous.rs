//! [`ContiguousUniformPool`]: dense storage behind stable proxies (seed 002).
//!
//! A pool keeps its objects densely, with no gaps, on size-aligned pages:
//! removing one moves the last object into the hole, and growing adds a
//! page without moving anything. Code never holds the address of an
//! object; it holds a [`Proxy`], one pointer to a stable *slot cell* that
//! holds the object's address and that the pool rewrites whenever the
//! object moves (a back-pointer per object names its cell, as the seed's
//! `MyStruct*` / `MyStructProxy*` pair does).
//! Cells live on size-aligned pages whose header names the pool, so a proxy
//! finds its pool by masking its own address. Access goes
//! through closures ([`Proxy::with`], [`Proxy::with_mut`]) or the accessors
//! `#[derive(Managed)]` generates, and whole-pool walks through
//! [`ContiguousUniformPool::map`], which runs at slice speed.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct MyStruct {
//!     a: i32,
//! }
//!
//! let pool = ContiguousUniformPool::new();
//! let p = pool.alloc(MyStruct { a: 76 });
//! let q = pool.alloc(MyStruct { a: 1 });
//! p.with_mut(|s| s.a += 1);
//! assert_eq!(p.a(), 77);
//! q.set_a(2);
//! pool.map(|instance: &mut MyStruct| instance.a *= 2);
//! assert_eq!((p.a(), q.a(), pool.len()), (154, 4, 2));
//!
//! // A standalone object owns its own storage.
//! let s = SimpleProxy::new(MyStruct { a: 5 });
//! assert_eq!(s.a(), 5);
//! ```
//!
//! The borrow rules that make this sound are on [`ContiguousUniformPool`].

mod access;
mod cells;
mod pool;
mod simple;
mod storage;

pub use access::{Access, Fields};
pub use pool::{ContiguousUniformPool, Drain, IntoIter, Iter, IterMut, PoolRef, PoolRefMut, Proxy};
pub use simple::SimpleProxy;
