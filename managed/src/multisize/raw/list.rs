//! The typed layer shared by the three page containers: a [`Records`]
//! engine whose records hold a [`RecordMeta<D>`] and own their values, plus
//! the iterators they hand out. The containers (`deque.rs`, `queue.rs`,
//! `stack.rs`, with the methods of [`common_api!`](super::super::api)) are
//! thin safe wrappers over [`RecordList`].
//!
//! Invariant: every record of a [`RecordList<D>`] holds an initialized
//! `RecordMeta<D>` whose value is live and owned by the list; the iterators
//! borrow the list and yield each value at most once.

use alloc::boxed::Box;
use core::any::TypeId;
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::coercion::{Coercion, RecordMeta, rebox};
use super::records::{PageInfo, Place, Pos, RecordCursor, Records};
use crate::SpaceStats;
use crate::page::PageSize;

impl<D: ?Sized> Clone for RecordMeta<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D: ?Sized> Copy for RecordMeta<D> {}

/// One end of a record list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Front,
    Back,
}

/// Records that own values viewed as `D`.
pub(crate) struct RecordList<D: ?Sized + 'static> {
    /// Invariant: every record holds an initialized `RecordMeta<D>` whose value
    /// is live and owned by this list.
    records: Records,
    /// The list owns its values (as `D`s, for the drop check).
    _values: PhantomData<D>,
}

impl<D: ?Sized + 'static> RecordList<D> {
    /// The record header: the two sizes and a `RecordMeta<D>`, rounded to 8.
    const HEAD: usize =
        (size_of::<super::records::Sizes>() + size_of::<RecordMeta<D>>()).next_multiple_of(8);

    pub(crate) fn new(page_size: PageSize) -> Self {
        Self {
            records: Records::new(page_size, core::alloc::Layout::new::<RecordMeta<D>>()),
            _values: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    #[inline]
    pub(crate) fn page_size(&self) -> PageSize {
        self.records.page_size()
    }

    #[inline]
    pub(crate) fn pages(&self) -> usize {
        self.records.pages()
    }

    /// Adds `value` at `end`.
    #[inline]
    pub(crate) fn push<T: 'static>(&mut self, end: End, value: T, how: Coercion<T, D>) {
        let ops = how.ops();
        let layout = core::alloc::Layout::new::<T>();
        // Redundant: a `Coercion<T, D>` holds the ops made for exactly this
        // `T` (invariant on its field; it is invariant in `T`).
        debug_assert_eq!(layout, ops.layout());
        let (rec, slot) = match end {
            End::Back => self.records.push_back(layout, Self::HEAD),
            End::Front => self.records.push_front(layout, Self::HEAD),
        };
        // SAFETY: 1. `slot` is valid for a `T` (in the record, in a heap
        // block of `T`'s layout, or dangling and aligned for a zero-sized
        // `T`) and `rec` has room for the metadata after its sizes;
        // 2. `ops` was made for `T`, so coercing `slot` gives `D` with
        // `T`'s metadata and the slot's provenance.
        unsafe {
            slot.cast::<T>().write(value);
            let meta = RecordMeta {
                value: ops.coerce(slot),
                ops,
            };
            Records::meta(rec).cast::<RecordMeta<D>>().write(meta);
        }
    }

    #[inline]
    fn meta_at(&self, pos: Pos) -> RecordMeta<D> {
        // SAFETY: every record holds an initialized `RecordMeta<D>` (invariant).
        unsafe {
            Records::meta(self.records.rec(pos))
                .cast::<RecordMeta<D>>()
                .read()
        }
    }

    #[inline]
    fn meta(&self, end: End) -> Option<RecordMeta<D>> {
        let rec = match end {
            End::Front => self.records.first_rec()?,
            End::Back => self.records.last_rec()?,
        };
        // SAFETY: every record holds an initialized `RecordMeta<D>` (invariant).
        let meta = unsafe { Records::meta(rec).cast::<RecordMeta<D>>().read() };
        // SAFETY: a `NonNull` is never null. Said to the optimizer, which
        // otherwise tests the loaded pointer again wherever the `Option`
        // returned here (or one built from it) is matched: two
        // instructions per peek or pop.
        unsafe { core::hint::assert_unchecked(meta.value.cast::<u8>().addr().get() != 0) };
        Some(meta)
    }

    #[inline]
    pub(crate) fn peek(&self, end: End) -> Option<&D> {
        let meta = self.meta(end)?;
        // SAFETY: the value is live and owned by `self`, borrowed shared.
        Some(unsafe { meta.value.as_ref() })
    }

    #[inline]
    pub(crate) fn peek_mut(&mut self, end: End) -> Option<&mut D> {
        let mut meta = self.meta(end)?;
        // SAFETY: the value is live and owned by `self`, borrowed uniquely.
        Some(unsafe { meta.value.as_mut() })
    }

    /// Whether the value at `end` is a `T`.
    #[inline]
    pub(crate) fn is<T: 'static>(&self, end: End) -> bool {
        self.meta(end)
            .is_some_and(|meta| meta.ops.type_id() == TypeId::of::<T>())
    }

    /// Removes the record at `end`; returns its value's heap block, if it
    /// has one, for the caller to free once the value is gone. The value's
    /// bytes stay valid until the next push.
    ///
    /// # Safety
    ///
    /// `meta` must be the metadata of the record at `end`; the caller takes
    /// its value over (moves it out or drops it).
    #[inline]
    unsafe fn unlink(&mut self, end: End, meta: RecordMeta<D>) -> Option<core::alloc::Layout> {
        let layout = meta.ops.layout();
        // SAFETY: forwarded caller contract.
        let heap = unsafe {
            match end {
                End::Front => self.records.remove_first(layout, meta.ops.heap_key()),
                End::Back => self.records.remove_last(layout, meta.ops.heap_key()),
            }
        };
        heap.then_some(layout)
    }

    /// Moves the value at `end` out if it is a `T`.
    #[inline]
    pub(crate) fn pop_typed<T: 'static>(&mut self, end: End) -> Option<T> {
        let meta = self.meta(end)?;
        if meta.ops.type_id() != TypeId::of::<T>() {
            return None;
        }
        // SAFETY: 1. the value is a live `T` (checked by its type id), so
        // its address is a valid `T`; its record is removed first (the
        // bytes stay put) and it is read out once, never used or dropped
        // again; 2. a heap block is freed after the read.
        unsafe {
            let heap = self.unlink(end, meta);
            let value = meta.value.cast::<T>().read();
            if let Some(layout) = heap {
                self.records.free_heap(meta.value.cast(), layout);
            }
            Some(value)
        }
    }

    /// Moves the value at `end` into a `Box<D>`.
    pub(crate) fn pop_boxed(&mut self, end: End) -> Option<Box<D>> {
        let meta = self.meta(end)?;
        // SAFETY: the value is live and of `meta.ops`' type; its record is
        // removed (the bytes stay put), then it is given up to the box and
        // its heap block, if any, freed.
        unsafe {
            let heap = self.unlink(end, meta);
            let boxed = rebox(meta.value.cast(), meta.ops);
            if let Some(layout) = heap {
                self.records.free_heap(meta.value.cast(), layout);
            }
            Some(boxed)
        }
    }

    /// Drops the value at `end`; false when empty. The record is removed
    /// before the destructor runs, so a panicking destructor leaves the
    /// container consistent (and the value dropped once).
    #[inline]
    pub(crate) fn drop_end(&mut self, end: End) -> bool {
        let Some(meta) = self.meta(end) else {
            return false;
        };
        // SAFETY: the record is removed first; its value's bytes stay valid
        // (pages are not freed by removal, heap blocks are freed below only
        // after the drop) and nothing can push meanwhile (`&mut self`).
        match unsafe { self.unlink(end, meta) } {
            // SAFETY: the value is live and now owned only here.
            None => unsafe { core::ptr::drop_in_place(meta.value.as_ptr()) },
            Some(layout) => self.drop_heap(meta.value, layout),
        }
        true
    }

    /// Calls `f` on the value at `end`, then drops it (also when `f`
    /// panics: a value handed to `f` is never handed out again); `None`
    /// when empty.
    #[inline]
    pub(crate) fn pop_with<R>(&mut self, end: End, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        // Drops the value afterwards, whatever `f` does.
        let mut list = scopeguard::guard(self, move |list| {
            list.drop_end(end);
        });
        let value = list.peek_mut(end)?;
        Some(f(value))
    }

    /// Drops a removed record's value living in a heap block, then frees
    /// the block, even when the destructor panics.
    #[inline(never)]
    fn drop_heap(&mut self, value: NonNull<D>, layout: core::alloc::Layout) {
        // Frees the block once the value is dropped, also when the
        // destructor panics.
        let guard = scopeguard::guard(&mut self.records, move |records| {
            // SAFETY: the value was dropped (or its destructor unwound,
            // which ends its life as well); its block came from this list's
            // records with this layout.
            unsafe { records.free_heap(value.cast(), layout) };
        });
        // SAFETY: the value is live and owned only here; the guard frees
        // its block afterwards, whatever the destructor does.
        unsafe { core::ptr::drop_in_place(value.as_ptr()) };
        drop(guard);
    }

    /// Drops every value, front to back; carries on past a panicking
    /// destructor (the panic resumes afterwards).
    pub(crate) fn clear(&mut self) {
        // Drops the rest if a destructor panics.
        let mut rest = scopeguard::guard(self, |list| while list.drop_end(End::Front) {});
        while rest.drop_end(End::Front) {}
    }

    pub(crate) fn info_for<P: ?Sized>(&self, ptr: *const P) -> Option<PageInfo> {
        self.records.info_for(ptr.cast())
    }

    pub(crate) fn stats(&self) -> SpaceStats {
        self.records.stats()
    }

    /// Repacks the records densely from the front when that frees pages
    /// (in-page values move; their pointers are re-derived through their
    /// coercions), then returns the spare page.
    pub(crate) fn shrink_to_fit(&mut self) {
        if self.records.pages() > self.records.dense_pages().max(1) {
            let mut packed = self.records.empty_like();
            let mut pos = self.records.first();
            while let Some(at) = pos {
                let meta = self.meta_at(at);
                let layout = meta.ops.layout();
                if packed.place(layout) == Place::Inline {
                    let (rec, slot) = packed.push_back(layout, Self::HEAD);
                    // SAFETY: 1. `slot` has room for the value (same layout)
                    // in another page, so the copy does not overlap; 2. the
                    // coerced pointer carries the slot's provenance; 3. the
                    // old copy is forgotten below, never used or dropped.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            meta.value.cast::<u8>().as_ptr(),
                            slot.as_ptr(),
                            layout.size(),
                        );
                        let moved = RecordMeta {
                            value: meta.ops.coerce(slot),
                            ops: meta.ops,
                        };
                        Records::meta(rec).cast::<RecordMeta<D>>().write(moved);
                    }
                } else {
                    let rec = packed.adopt_back(layout);
                    // SAFETY: the record has room for the metadata; the
                    // value stays where it is (heap or zero-sized).
                    unsafe { Records::meta(rec).cast::<RecordMeta<D>>().write(meta) };
                }
                pos = self.records.next(at);
            }
            // Nothing above can unwind past a half-built state: the old
            // records still own everything until this point.
            self.records.forget_all();
            self.records = packed;
        }
        self.records.release_reserve();
    }

    pub(crate) fn iter(&self) -> Iter<'_, D> {
        Iter {
            records: &self.records,
            front: self.records.front_cursor(),
            back: self.records.back_cursor(),
            left: self.records.len(),
            _values: PhantomData,
        }
    }

    pub(crate) fn iter_mut(&mut self) -> IterMut<'_, D> {
        IterMut {
            records: &self.records,
            front: self.records.front_cursor(),
            back: self.records.back_cursor(),
            left: self.records.len(),
            _values: PhantomData,
        }
    }
}

impl<D: ?Sized + 'static> Drop for RecordList<D> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Steps a cursor pair; shared by both iterators.
#[inline]
fn step<D: ?Sized + 'static>(
    records: &Records,
    front: &mut Option<RecordCursor>,
    back: &mut Option<RecordCursor>,
    left: &mut usize,
    end: End,
) -> Option<NonNull<D>> {
    if *left == 0 {
        return None;
    }
    *left -= 1;
    let cursor = match end {
        End::Front => front.as_mut()?,
        End::Back => back.as_mut()?,
    };
    // SAFETY: the cursor is at a record of `records`, which holds a
    // `RecordMeta<D>`.
    let meta = unsafe { Records::meta(cursor.rec()).cast::<RecordMeta<D>>().read() };
    if *left > 0 {
        let moved = match end {
            End::Front => records.advance(cursor),
            End::Back => records.retreat(cursor),
        };
        debug_assert!(moved, "`left` counts the records between the cursors");
    }
    Some(meta.value)
}

/// Folds the values between a front and a back cursor (`left` of them)
/// page by page: a tight loop over each page's records with the bound
/// hoisted, the size of the next record read before `f` runs.
#[inline]
fn fold_values<D: ?Sized + 'static, B>(
    records: &Records,
    front: Option<RecordCursor>,
    back: Option<RecordCursor>,
    left: usize,
    init: B,
    mut f: impl FnMut(B, NonNull<D>) -> B,
) -> B {
    let mut acc = init;
    let (Some(mut cursor), Some(back)) = (front, back) else {
        return acc;
    };
    if left == 0 {
        return acc;
    }
    // SAFETY: the back cursor is at a record of `records`.
    let back_end = back.off + unsafe { Records::sizes(back.rec()) }.next;
    loop {
        let last_page = cursor.page == back.page;
        let lim = if last_page { back_end } else { cursor.lim };
        let mut at = cursor;
        while at.off < lim {
            let rec = at.rec();
            // SAFETY: `at` is at a record of `records` (the records of a
            // page are chained by their sizes up to `lim`), which holds
            // initialized sizes and a `RecordMeta<D>`.
            let (next, meta) = unsafe {
                (
                    Records::sizes(rec).next,
                    Records::meta(rec).cast::<RecordMeta<D>>().read(),
                )
            };
            at.off += next;
            acc = f(acc, meta.value);
        }
        if last_page {
            return acc;
        }
        // While values are left the front cursor's page precedes the back
        // cursor's, so the next page is in use.
        cursor = records.page_cursor(cursor.page + 1);
    }
}

/// Iterator over shared references to the values of a multisize page
/// container, in container order (double-ended).
pub struct Iter<'a, D: ?Sized + 'static> {
    records: &'a Records,
    front: Option<RecordCursor>,
    back: Option<RecordCursor>,
    /// Values not yet yielded from either end.
    left: usize,
    _values: PhantomData<&'a D>,
}

impl<'a, D: ?Sized + 'static> Iterator for Iter<'a, D> {
    type Item = &'a D;

    #[inline]
    fn next(&mut self) -> Option<&'a D> {
        let value = step::<D>(
            self.records,
            &mut self.front,
            &mut self.back,
            &mut self.left,
            End::Front,
        )?;
        // SAFETY: the value is live and borrowed shared from its container
        // for `'a`.
        Some(unsafe { value.as_ref() })
    }

    #[inline]
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, &'a D) -> B,
    {
        fold_values::<D, B>(
            self.records,
            self.front,
            self.back,
            self.left,
            init,
            |acc, v| {
                // SAFETY: as in `next`.
                f(acc, unsafe { v.as_ref() })
            },
        )
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, D: ?Sized + 'static> DoubleEndedIterator for Iter<'a, D> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a D> {
        let value = step::<D>(
            self.records,
            &mut self.front,
            &mut self.back,
            &mut self.left,
            End::Back,
        )?;
        // SAFETY: as in `next`.
        Some(unsafe { value.as_ref() })
    }
}

impl<D: ?Sized + 'static> ExactSizeIterator for Iter<'_, D> {}
impl<D: ?Sized + 'static> FusedIterator for Iter<'_, D> {}

// SAFETY: an `Iter` only reads the container it borrows shared (records
// and values), like a `&MultisizePageDeque<D>`, which is `Send` and `Sync`
// when `D: Sync` (as `Vec<Box<D>>`'s `Iter`).
unsafe impl<D: ?Sized + Sync + 'static> Send for Iter<'_, D> {}
// SAFETY: as for `Send`: `&Iter` reads no more than `Iter` does.
unsafe impl<D: ?Sized + Sync + 'static> Sync for Iter<'_, D> {}

impl<D: ?Sized + 'static> Clone for Iter<'_, D> {
    fn clone(&self) -> Self {
        Self { ..*self }
    }
}

impl<D: ?Sized + 'static> fmt::Debug for Iter<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").field("left", &self.left).finish()
    }
}

/// Iterator over exclusive references to the values of a multisize page
/// container, in container order (double-ended).
pub struct IterMut<'a, D: ?Sized + 'static> {
    /// Read only for the record chain, which no value overlaps.
    records: &'a Records,
    front: Option<RecordCursor>,
    back: Option<RecordCursor>,
    /// Values not yet yielded: each record is yielded at most once.
    left: usize,
    _values: PhantomData<&'a mut D>,
}

impl<'a, D: ?Sized + 'static> Iterator for IterMut<'a, D> {
    type Item = &'a mut D;

    #[inline]
    fn next(&mut self) -> Option<&'a mut D> {
        let mut value = step::<D>(
            self.records,
            &mut self.front,
            &mut self.back,
            &mut self.left,
            End::Front,
        )?;
        // SAFETY: the container is borrowed exclusively for `'a` and each
        // value (records never overlap) is yielded once.
        Some(unsafe { value.as_mut() })
    }

    #[inline]
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, &'a mut D) -> B,
    {
        fold_values::<D, B>(
            self.records,
            self.front,
            self.back,
            self.left,
            init,
            |acc, mut v| {
                // SAFETY: as in `next`: each value is visited once.
                f(acc, unsafe { v.as_mut() })
            },
        )
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, D: ?Sized + 'static> DoubleEndedIterator for IterMut<'a, D> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a mut D> {
        let mut value = step::<D>(
            self.records,
            &mut self.front,
            &mut self.back,
            &mut self.left,
            End::Back,
        )?;
        // SAFETY: as in `next`.
        Some(unsafe { value.as_mut() })
    }
}

impl<D: ?Sized + 'static> ExactSizeIterator for IterMut<'_, D> {}
impl<D: ?Sized + 'static> FusedIterator for IterMut<'_, D> {}

// SAFETY: an `IterMut` borrows the container exclusively, reads its record
// chain (plain sizes and metadata, which no value overlaps) and hands out
// each value once as `&mut D`, which moves to another thread when
// `D: Send` (as `Vec<Box<D>>`'s `IterMut`).
unsafe impl<D: ?Sized + Send + 'static> Send for IterMut<'_, D> {}
// SAFETY: `&IterMut` gives access to nothing (every method takes
// `&mut self`), so sharing it needs no more than `&D` would.
unsafe impl<D: ?Sized + Sync + 'static> Sync for IterMut<'_, D> {}

impl<D: ?Sized + 'static> fmt::Debug for IterMut<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("left", &self.left).finish()
    }
}

// Memory maps (`crate::memory_map`).
impl<D: ?Sized + 'static> RecordList<D> {
    /// The map of the containers' `memory_map`, titled `name<D>`.
    pub(crate) fn memory_map(&self, name: &str) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{MemoryMap, type_name};
        let mut map = MemoryMap::new(alloc::format!("{name}<{}>", type_name::<D>()));
        self.records.map_into(&mut map, |rec| {
            // SAFETY: every record holds an initialized `RecordMeta<D>`
            // (invariant of `records`); it is copied out, and the value is
            // not read.
            let meta = unsafe { Records::meta(rec).cast::<RecordMeta<D>>().read() };
            (meta.value.cast::<u8>(), meta.ops.layout().size())
        });
        map
    }
}
