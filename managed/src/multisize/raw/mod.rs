//! The raw layer of the multisize family: every `unsafe` block of the
//! family is here, so its soundness argument is read in this module alone.
//!
//! - [`coercion`]: the type-erased value operations a record keeps
//!   ([`Coercion`](coercion::Coercion), [`Ops`](coercion::Ops),
//!   [`RecordMeta`](coercion::RecordMeta)).
//! - [`records`]: the non-generic record engine, records of variable size
//!   chained in pages. Invariant: the records chained from a page's
//!   `begin` by their `next` sizes end exactly at its `end`.
//! - [`list`]: [`RecordList`](list::RecordList), records that own values
//!   viewed as one unsized `D`, and the iterators over them. Invariant:
//!   every record holds an initialized `RecordMeta<D>` of a live value the
//!   list owns.
//! - [`pool`]: the [`MultisizePool`](super::MultisizePool)'s size classes,
//!   free lists, large table, keys and raw-block handles. Invariant: a
//!   key's `(pool id, slot, generation)` matches only the occupancy it was
//!   made for.
//!
//! Every `pub(crate)`/`pub(super)` function here that is not an
//! `unsafe fn` keeps these invariants whatever its arguments, so the safe
//! containers above call only safe functions.

pub(crate) mod coercion;
pub(crate) mod list;
pub(crate) mod pool;
pub(crate) mod records;
