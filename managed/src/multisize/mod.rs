//! Multisize page containers and [`MultisizePool`]: values of
//! different types and sizes side by side on one list of pages.
//!
//! - [`MultisizePageDeque`]: push and pop at both ends, walk from either
//!   end. Every record starts with a pair of `u32`s: the size of
//!   the record before it and the size of the record itself (the distance
//!   to the one after it).
//! - [`MultisizePageQueue`]: push at the back, pop and walk from the front.
//! - [`MultisizePageStack`]: push, pop and walk at the top; it grows
//!   backwards in memory so the top record's metadata is at the lowest
//!   address in use.
//! - [`MultisizePool`]: allocate and free values of any type anywhere,
//!   from free lists of power-of-two size classes; values never move.
//!   Raw memory of any `Layout` comes from the same classes:
//!   [`MultisizePool::alloc_layout`] returns an owning [`MultisizeBlock`],
//!   checked by its pool's id, handed back with `dealloc`.
//!
//! The three page containers hold heterogeneous values behind one unsized
//! type `D`, usually a trait object: a `MultisizePageQueue<dyn Shape>` holds
//! circles and squares and hands out `&dyn Shape`. Each record keeps the
//! value's (fat) pointer, its "vptr", recorded at push time from a
//! [`Coercion`] that the [`coercion!`](crate::coercion) macro writes: an
//! unsizing coercion checked by the compiler, so no record can ever carry
//! metadata that does not belong to its value.
//!
//! ```
//! use managed::prelude::*;
//!
//! trait Shape {
//!     fn area(&self) -> f64;
//! }
//! struct Square(f64);
//! struct Circle(f64);
//! impl Shape for Square {
//!     fn area(&self) -> f64 { self.0 * self.0 }
//! }
//! impl Shape for Circle {
//!     fn area(&self) -> f64 { 3.0 * self.0 * self.0 }
//! }
//!
//! let mut queue: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
//! queue.push(Square(2.0), coercion!());
//! queue.push(Circle(1.0), coercion!());
//! assert_eq!(queue.iter().map(|s| s.area()).sum::<f64>(), 7.0);
//!
//! // Typed pops are checked: the front is a `Square`, not a `Circle`.
//! assert!(queue.pop::<Circle>().is_none());
//! assert_eq!(queue.pop::<Square>().map(|s| s.0), Some(2.0));
//! // Untyped pops hand the value over in a `Box<dyn Shape>`.
//! let circle: Box<dyn Shape> = queue.pop_boxed().unwrap();
//! assert_eq!(circle.area(), 3.0);
//! assert!(queue.is_empty());
//! ```
//!
//! **Threads.** A page container is `Send` when its `D` is: a
//! `MultisizePageQueue<dyn Job + Send>` (or `dyn Job` for a `trait Job:
//! Send`) moves to another thread with its values, and a
//! `MultisizePageQueue<dyn Job>` whose trait does not require `Send` stays
//! on its thread. It is `Sync` when `D` is `Sync`, for `&` walks from
//! several threads. [`MultisizePool`] says which values it takes with its
//! [`ValueSet`] parameter instead ([`SendValues`] for a pool that moves).
//!
//! Zero-sized values take no page space; values too large or too aligned
//! to sit in a page (see [`MultisizePageDeque`]) get their own block from
//! the global allocator and only their record sits in the page.
//!
//! The pool takes typed values behind checked `Copy` keys, and raw memory
//! of any layout behind owning handles:
//!
//! ```
//! use core::alloc::Layout;
//! use core::mem::MaybeUninit;
//! use managed::prelude::*;
//!
//! let mut pool = MultisizePool::new();
//! let key = pool.insert(String::from("typed"));
//! let block = pool.alloc_layout(Layout::array::<u32>(10).unwrap()); // 40 bytes
//! let bytes = pool.bytes_mut(&block).unwrap();
//! bytes.fill(MaybeUninit::new(0));
//! bytes[0] = MaybeUninit::new(42);
//! // SAFETY: the block is live, 4-aligned and its bytes are initialized.
//! let first = unsafe { block.as_ptr().cast::<u32>().read() };
//! assert_eq!(first, 42);
//! assert_eq!(pool.len(), 2);
//! assert!(pool.dealloc(block)); // consumed: it cannot be freed twice
//! assert_eq!(pool.get(key).map(String::as_str), Some("typed"));
//! ```

mod api;
mod deque;
mod pool;
mod queue;
mod raw;
mod stack;
mod values;

pub use deque::MultisizePageDeque;
pub use pool::MultisizePool;
pub use queue::MultisizePageQueue;
pub use raw::coercion::Coercion;
#[doc(hidden)]
pub use raw::coercion::{Ops, TypedOps};
pub use raw::list::{Iter, IterMut};
pub use raw::pool::{MultisizeBlock, MultisizeKey};
pub use raw::records::PageInfo;
pub use stack::MultisizePageStack;
pub use values::{AnyValues, Holds, SendValues, ValueSet};
