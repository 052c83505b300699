//! The non-generic record engine under the three multisize page
//! containers: records of variable size chained in pages, with a
//! `(prev, next)` pair of `u32` sizes at the start of each.
//!
//! A record is `[prev: u32][next: u32][meta][padding][value][padding]`:
//! `prev` is the size of the record before it in the same page, `next` its
//! own size, i.e. the distance to the record after it. The first record's
//! `prev` is never read (it is 0 when the record was pushed first, stale
//! after a pop at the front): a walk backwards stops at the page's
//! `begin`, and a pop at the back that reaches the first record empties
//! the page.
//! Records start 8-aligned. The engine only places records and values; the
//! typed containers write and read the metadata and own the values.

use core::alloc::Layout;
use core::ptr::NonNull;

use crate::SpaceStats;
use crate::page::raw::{allocate, deallocate};
use crate::page::{PageList, PageSize};

/// The header at the base of every multisize page.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(crate) struct PageHdr {
    /// Offset of the first record from the page base.
    ///
    /// Invariant: `payload_offset <= begin <= end <= page size`, both
    /// multiples of 8; the records chained from `begin` by their `next`
    /// sizes end exactly at `end`.
    begin: u32,
    /// Offset just past the last record.
    end: u32,
    /// Size of the last record (0 when the page is empty).
    last: u32,
}

/// What a page of a multisize container holds, as found by
/// `header_for` from any address inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    /// Records (values) in the page.
    pub records: usize,
    /// Bytes of the page taken by records (headers, values and padding).
    pub used_bytes: usize,
    /// The page size.
    pub page_bytes: usize,
}

/// The two sizes at the start of every record.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(crate) struct Sizes {
    /// Size of the record before this one in its page; meaningless for the
    /// first (never read there).
    pub(crate) prev: u32,
    /// Size of this record: the distance to the next one.
    pub(crate) next: u32,
}

/// Where a value of some layout lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the record, inside the page.
    Inline,
    /// In its own block from the global allocator (large or over-aligned).
    Heap,
    /// Nowhere: a zero-sized value at a dangling, aligned address.
    Zst,
}

/// A record's position: page index and offset from the page base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) page: usize,
    pub(crate) off: u32,
}

/// A position in the record chain that caches its page, for iteration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordCursor {
    pub(crate) page: usize,
    /// Base of page `page`.
    base: NonNull<u8>,
    /// Offset of the record.
    pub(crate) off: u32,
    /// `end` of the page for a cursor moving forwards, `begin` for one
    /// moving backwards.
    pub(crate) lim: u32,
}

impl RecordCursor {
    /// The record the cursor is at.
    #[inline]
    pub(crate) fn rec(&self) -> NonNull<u8> {
        // SAFETY: the offset of a record lies inside its page.
        unsafe { self.base.add(self.off as usize) }
    }
}

/// Records chained in pages, growing at both ends.
///
/// Like `VecDeque`'s capacity, pages emptied by pops are kept (as reserve
/// pages at either end of the list, reused by later pushes at either end)
/// until `release_reserve`.
///
/// `repr(C)`, in an order that keeps the two counters every push and pop
/// updates (`len`, `live`) apart: as neighbours, LLVM merged their updates
/// into one 16-byte vector load, add and store (a pop's took six
/// instructions where two read-modify-write subtractions do).
#[repr(C)]
pub(crate) struct Records {
    /// The pages, in order.
    ///
    /// Invariant: pages `lo..hi` hold at least one record each; the others
    /// (`..lo` and `hi..`) are empty reserve pages.
    pages: PageList<PageHdr>,
    /// Base of page `lo` and of page `hi - 1`, cached for the hot paths;
    /// both point to [`NO_ROOM`] when `lo == hi`. Invariant: kept in step
    /// by `sync_ends` whenever `lo`, `hi` or the page order change, and
    /// never written through while pointing to `NO_ROOM` (the fast paths
    /// only write after a room check that `NO_ROOM` fails).
    front: NonNull<u8>,
    /// Records in all pages.
    len: usize,
    /// First page holding records.
    lo: usize,
    /// One past the last page holding records (`lo <= hi <= pages.len()`).
    hi: usize,
    /// Bytes of the values (heap values included; headers and padding are
    /// overhead).
    live: usize,
    /// See `front`.
    back: NonNull<u8>,
    /// Bytes of a record header: the two sizes and the metadata, rounded
    /// up to 8. Invariant: a multiple of 8, at least 8.
    head: usize,
    /// The largest `size + align` of a value placed in its page:
    /// `payload_len / 4 - head`. Invariant: fixed with the geometry.
    inline_max: usize,
    /// Bytes held in heap blocks for large values.
    heap: usize,
}

// SAFETY: `front` and `back` only cache base pointers of pages owned by
// `pages` (itself `Send` and `Sync`); the engine holds no values of its own
// (the typed containers own them and add their own bounds).
unsafe impl Send for Records {}
// SAFETY: as above; `&Records` only reads page headers and record sizes.
unsafe impl Sync for Records {}

const REC_ALIGN: usize = 8;

/// The header that `front` and `back` point to while no page holds
/// records, so that the push fast paths need no emptiness check: its
/// `end` lies past every page (the largest is 1 GiB), so no record fits
/// after it, and its `begin` is 0, so none fits before it. Small enough
/// that `end` plus a record header and an inline value (at most a quarter
/// of a page) cannot overflow a 32-bit `usize`.
static NO_ROOM: PageHdr = PageHdr {
    begin: 0,
    end: NO_ROOM_END,
    last: 0,
};
const NO_ROOM_END: u32 = 1 << 31;
const _: () = assert!(NO_ROOM_END as usize > PageSize::MAX.get());

/// A pointer to [`NO_ROOM`], read only.
#[inline]
fn no_room() -> NonNull<u8> {
    NonNull::from(&NO_ROOM).cast()
}

impl Records {
    /// An empty engine for records whose metadata has layout `meta`.
    pub(crate) fn new(page_size: PageSize, meta: Layout) -> Self {
        assert!(
            meta.align() <= REC_ALIGN,
            "record metadata is at most 8-aligned"
        );
        let head = (size_of::<Sizes>() + meta.size()).next_multiple_of(REC_ALIGN);
        let page_size = PageSize::new(page_size.get().max(Self::min_page(head)))
            .expect("page size within bounds");
        let pages = PageList::with_page_size(page_size);
        let inline_max = (pages.payload_len() / 4).saturating_sub(head);
        // Checked in every build (once per container): `push_back` and
        // `push_front` place a value in its record on this bound alone, and
        // `place` must agree with them when the value is removed.
        assert!(
            Self::min_inline(head) <= inline_max,
            "the inline bound holds for every page size"
        );
        Self {
            pages,
            lo: 0,
            hi: 0,
            front: no_room(),
            back: no_room(),
            head,
            inline_max,
            len: 0,
            live: 0,
            heap: 0,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn page_size(&self) -> PageSize {
        self.pages.page_size()
    }

    #[inline]
    fn payload_offset(&self) -> usize {
        self.pages.payload_offset()
    }

    /// Where a value of `layout` goes.
    #[inline]
    pub(crate) fn place(&self, layout: Layout) -> Place {
        if layout.size() == 0 {
            Place::Zst
        } else if self.fits_inline(layout) {
            Place::Inline
        } else {
            Place::Heap
        }
    }

    /// Whether a value of `layout` (not zero-sized) sits in its record:
    /// its size plus alignment plus the record header are at most a
    /// quarter of the payload.
    #[inline]
    fn fits_inline(&self, layout: Layout) -> bool {
        // No overflow: a layout's size is at most `isize::MAX - align + 1`.
        layout.size() + layout.align() <= self.inline_max
    }

    /// The key that decides, at removal, whether a value of `layout` lives
    /// in a heap block: `size + align`, or 0 for a zero-sized value (which
    /// lives nowhere). A value is in a heap block exactly when its key
    /// exceeds `inline_max` ([`place`](Self::place) says the same), so the
    /// typed layer computes the key once per type, at compile time, and a
    /// pop compares it with one instruction.
    pub(crate) const fn heap_key(layout: Layout) -> usize {
        if layout.size() == 0 {
            0
        } else {
            layout.size() + layout.align()
        }
    }

    /// Whether a removed value of `layout`, whose
    /// [`heap_key`](Self::heap_key) is `key`, lives in a heap block: one
    /// compare, the answer of `place(layout) == Place::Heap`.
    #[inline]
    fn has_heap_block(&self, layout: Layout, key: usize) -> bool {
        debug_assert_eq!(key, Self::heap_key(layout));
        debug_assert_eq!(key > self.inline_max, self.place(layout) == Place::Heap);
        key > self.inline_max
    }

    /// The smallest page an engine with record headers of `head` bytes
    /// uses: room for at least eight record headers.
    const fn min_page(head: usize) -> usize {
        (head * 8 + 16).next_power_of_two()
    }

    /// A lower bound of `inline_max` for record headers of `head` bytes,
    /// whatever the page size: that of the smallest page (the payload
    /// starts at 16 bytes, past the 16-aligned page header). With `head`
    /// and the layout known at compile time, `fits_inline_at` folds to a
    /// constant for every value up to this size (92 bytes with alignment
    /// for a trait object's 32-byte header). `new` checks the bound.
    const fn min_inline(head: usize) -> usize {
        const PAYLOAD: usize = size_of::<PageHdr>().next_multiple_of(16);
        ((Self::min_page(head) - PAYLOAD) / 4).saturating_sub(head)
    }

    /// [`fits_inline`](Self::fits_inline) for the fast paths, whose `head`
    /// is a constant: the same answer (`min_inline(head) <= inline_max`,
    /// checked by `new`), without reading `inline_max` for small values.
    #[inline]
    fn fits_inline_at(&self, layout: Layout, head: usize) -> bool {
        layout.size() + layout.align() <= Self::min_inline(head) || self.fits_inline(layout)
    }

    #[inline]
    fn page(&self, index: usize) -> NonNull<u8> {
        self.pages.page_ptr(index).expect("page index in range")
    }

    /// The header of the page at `base`.
    #[inline]
    fn hdr(base: NonNull<u8>) -> NonNull<PageHdr> {
        base.cast()
    }

    /// Pointer to the record at `pos`.
    #[inline]
    pub(crate) fn rec(&self, pos: Pos) -> NonNull<u8> {
        // SAFETY: `pos` is inside the page (callers only build positions
        // of existing records), so the offset stays in the allocation.
        unsafe { self.page(pos.page).add(pos.off as usize) }
    }

    /// The sizes of the record at `rec`.
    ///
    /// # Safety
    ///
    /// `rec` must point to a record of this engine.
    #[inline]
    pub(crate) unsafe fn sizes(rec: NonNull<u8>) -> Sizes {
        // SAFETY: every record starts with initialized, 8-aligned sizes.
        unsafe { rec.cast::<Sizes>().read() }
    }

    /// Pointer to the metadata of the record at `rec`.
    #[inline]
    pub(crate) fn meta(rec: NonNull<u8>) -> NonNull<u8> {
        // SAFETY: the metadata follows the sizes inside the record.
        unsafe { rec.add(size_of::<Sizes>()) }
    }

    /// Allocates a heap block for a value of `layout` (`Place::Heap`).
    fn alloc_heap(&mut self, layout: Layout) -> NonNull<u8> {
        // `Place::Heap` layouts have a non-zero size.
        let block = allocate(layout);
        self.heap += layout.size();
        block
    }

    /// Where a value of `layout` sits when placed out of the page.
    fn outside(&mut self, layout: Layout, place: Place) -> NonNull<u8> {
        match place {
            Place::Heap => self.alloc_heap(layout),
            _ => NonNull::new(core::ptr::without_provenance_mut(layout.align()))
                .expect("alignments are non-zero"),
        }
    }

    /// Value bytes a record of `layout` in `place` occupies in its page.
    fn inline_size(layout: Layout, place: Place) -> usize {
        if place == Place::Inline {
            layout.size()
        } else {
            0
        }
    }

    /// Refreshes the cached bases of the end pages.
    #[inline(never)]
    fn sync_ends(&mut self) {
        if self.lo < self.hi {
            self.front = self.page(self.lo);
            self.back = self.page(self.hi - 1);
        } else {
            self.front = no_room();
            self.back = no_room();
        }
    }

    /// Makes an empty page the new last page in use (index `hi`), reusing a
    /// reserve page when there is one; returns its index.
    fn grab_back(&mut self) -> usize {
        if self.hi == self.pages.len() {
            if self.lo > 0 {
                self.pages.rotate_front_to_back();
                self.lo -= 1;
                self.hi -= 1;
            } else {
                self.pages.push_back(PageHdr {
                    begin: 0,
                    end: 0,
                    last: 0,
                });
            }
        }
        let index = self.hi;
        let begin = self.payload_offset() as u32;
        // SAFETY: page `index` is an empty page of this list; its header is
        // rewritten to describe an empty page growing upwards.
        unsafe {
            Self::hdr(self.page(index)).write(PageHdr {
                begin,
                end: begin,
                last: 0,
            });
        }
        self.hi += 1;
        self.sync_ends();
        index
    }

    /// Makes an empty page the new first page in use (index `lo - 1`),
    /// reusing a reserve page when there is one; returns its index.
    fn grab_front(&mut self) -> usize {
        if self.lo == 0 {
            if self.hi < self.pages.len() {
                self.pages.rotate_back_to_front();
            } else {
                self.pages.push_front(PageHdr {
                    begin: 0,
                    end: 0,
                    last: 0,
                });
            }
            self.lo += 1;
            self.hi += 1;
        }
        self.lo -= 1;
        let index = self.lo;
        let end = self.page_size().get() as u32;
        // SAFETY: as in `grab_back`, for a page growing downwards.
        unsafe {
            Self::hdr(self.page(index)).write(PageHdr {
                begin: end,
                end,
                last: 0,
            });
        }
        self.sync_ends();
        index
    }

    /// Appends a record for a value of `layout`; returns the record and
    /// where to write the value (uninitialized). The record's metadata is
    /// uninitialized too: the caller writes both before anything reads them.
    ///
    /// The fast path (an in-page value that fits the last page) is inlined
    /// so that a layout known at compile time folds its arithmetic.
    ///
    /// `head` must be this engine's record header size (passed by the typed
    /// layer as a constant).
    #[inline]
    pub(crate) fn push_back(&mut self, layout: Layout, head: usize) -> (NonNull<u8>, NonNull<u8>) {
        // Redundant: the typed layer passes its `HEAD` constant, the value
        // this engine was made with.
        debug_assert_eq!(head, self.head);
        if layout.size() != 0 && self.fits_inline_at(layout, head) {
            // The last page in use, or `NO_ROOM`, which fails the room
            // check below.
            let base = self.back;
            // SAFETY: both hold an initialized header.
            let mut hdr = unsafe { Self::hdr(base).read() };
            let align = layout.align();
            let p = hdr.end as usize;
            debug_assert_eq!((p | head) % REC_ALIGN, 0);
            // `p` and `head` are multiples of 8: no rounding for values
            // aligned to at most 8 (the common case, folded at compile
            // time for a known layout).
            let padded = (layout.size() + REC_ALIGN - 1) & !(REC_ALIGN - 1);
            // The record's size, `e - p`: a constant when the value needs
            // no alignment padding (written out, so the stores take it as
            // an immediate instead of subtracting the offsets).
            let (v, next) = if align <= REC_ALIGN {
                (p + head, head + padded)
            } else {
                let v = (p + head + align - 1) & !(align - 1);
                (v, v + padded - p)
            };
            let e = v + padded;
            if e <= self.page_size().get() {
                debug_assert!(self.lo < self.hi && hdr.begin < hdr.end);
                debug_assert_eq!(next, e - p);
                let sizes = Sizes {
                    prev: hdr.last,
                    next: next as u32,
                };
                hdr.end = e as u32;
                hdr.last = sizes.next;
                self.len += 1;
                self.live += layout.size();
                // SAFETY: 1. the header is at the page base; 2. the record
                // `p..e` lies inside the page (checked) past all others, and
                // the value `v..v + size` inside the record.
                return unsafe {
                    Self::hdr(base).write(hdr);
                    let rec = base.add(p);
                    rec.cast::<Sizes>().write(sizes);
                    (rec, base.add(v))
                };
            }
        }
        self.push_back_slow(layout)
    }

    /// [`push_back`](Self::push_back) when a page must be opened or the
    /// value does not sit in the page.
    #[inline(never)]
    fn push_back_slow(&mut self, layout: Layout) -> (NonNull<u8>, NonNull<u8>) {
        let place = self.place(layout);
        let size = Self::inline_size(layout, place);
        let align = if place == Place::Inline {
            layout.align()
        } else {
            1
        };
        let page_size = self.page_size().get();
        let fit = |p: usize, head: usize| {
            // Alignments are powers of two: round up with masks, not `%`.
            let v = (p + head + align - 1) & !(align - 1);
            let e = (v + size + REC_ALIGN - 1) & !(REC_ALIGN - 1);
            (v, e)
        };
        let mut at = None;
        if self.hi > self.lo {
            // SAFETY: pages in use hold an initialized header.
            let hdr = unsafe { Self::hdr(self.back).read() };
            let (v, e) = fit(hdr.end as usize, self.head);
            if e <= page_size {
                at = Some((self.hi - 1, hdr, v, e));
            }
        }
        let (index, mut hdr, v, e) = match at {
            Some(found) => found,
            None => {
                let index = self.grab_back();
                // SAFETY: `grab_back` initialized the page's header.
                let hdr = unsafe { Self::hdr(self.page(index)).read() };
                let (v, e) = fit(hdr.end as usize, self.head);
                // Checked in every build (once per fresh page): the record
                // is written up to `e`.
                assert!(e <= page_size, "inline values fit a fresh page");
                (index, hdr, v, e)
            }
        };
        debug_assert_eq!(index, self.hi - 1);
        let base = self.back;
        let p = hdr.end as usize;
        let sizes = Sizes {
            prev: if hdr.begin == hdr.end { 0 } else { hdr.last },
            next: (e - p) as u32,
        };
        hdr.end = e as u32;
        hdr.last = sizes.next;
        // SAFETY: 1. the header is at the page base; 2. the record `p..e`
        // lies inside the page (checked above) past all others.
        let rec = unsafe {
            Self::hdr(base).write(hdr);
            let rec = base.add(p);
            rec.cast::<Sizes>().write(sizes);
            rec
        };
        let value = if place == Place::Inline {
            // SAFETY: `v..v + size` lies inside the record.
            unsafe { base.add(v) }
        } else {
            self.outside(layout, place)
        };
        self.len += 1;
        self.live += layout.size();
        (rec, value)
    }

    /// Prepends a record for a value of `layout`, growing backwards in
    /// memory; as [`push_back`](Self::push_back) otherwise.
    #[inline]
    pub(crate) fn push_front(&mut self, layout: Layout, head: usize) -> (NonNull<u8>, NonNull<u8>) {
        // Redundant: the typed layer passes its `HEAD` constant, the value
        // this engine was made with.
        debug_assert_eq!(head, self.head);
        if layout.size() != 0 && self.fits_inline_at(layout, head) {
            // The first page in use, or `NO_ROOM`, whose `begin` of 0
            // fails the room check below.
            let base = self.front;
            // SAFETY: both hold an initialized header.
            let mut hdr = unsafe { Self::hdr(base).read() };
            let q = hdr.begin as usize;
            let (size, align) = (layout.size(), layout.align());
            // A conservative bound (the slow path decides exactly).
            if q >= self.payload_offset() + head + size + align + REC_ALIGN {
                let v = (q - size) & !(align - 1);
                let s = (v - head) & !(REC_ALIGN - 1);
                debug_assert!(self.lo < self.hi && hdr.begin < hdr.end);
                let sizes = Sizes {
                    prev: 0,
                    next: (q - s) as u32,
                };
                hdr.begin = s as u32;
                self.len += 1;
                self.live += size;
                // SAFETY: 1. the old first record starts at `q`, and the
                // header is at the page base; 2. the record `s..q` lies
                // inside the payload (checked) before all others, and the
                // value `v..v + size` inside the record.
                return unsafe {
                    (*base.add(q).cast::<Sizes>().as_ptr()).prev = sizes.next;
                    Self::hdr(base).write(hdr);
                    let rec = base.add(s);
                    rec.cast::<Sizes>().write(sizes);
                    (rec, base.add(v))
                };
            }
        }
        self.push_front_slow(layout)
    }

    /// [`push_front`](Self::push_front) when a page must be opened or the
    /// value does not sit in the page.
    #[inline(never)]
    fn push_front_slow(&mut self, layout: Layout) -> (NonNull<u8>, NonNull<u8>) {
        let place = self.place(layout);
        let size = Self::inline_size(layout, place);
        let align = if place == Place::Inline {
            layout.align()
        } else {
            1
        };
        let start = self.payload_offset();
        let head = self.head;
        // The record ending at `q`: value aligned down below `q`, record
        // start aligned down below the value's header.
        let fit = |q: usize| -> Option<(usize, usize)> {
            let v = q.checked_sub(size)? & !(align - 1);
            let s = v.checked_sub(head)? & !(REC_ALIGN - 1);
            (s >= start).then_some((s, v))
        };
        let mut at = None;
        if self.hi > self.lo {
            // SAFETY: pages in use hold an initialized header.
            let hdr = unsafe { Self::hdr(self.front).read() };
            if let Some((s, v)) = fit(hdr.begin as usize) {
                at = Some((self.lo, hdr, s, v));
            }
        }
        let (index, mut hdr, s, v) = match at {
            Some(found) => found,
            None => {
                let index = self.grab_front();
                // SAFETY: `grab_front` initialized the page's header.
                let hdr = unsafe { Self::hdr(self.page(index)).read() };
                let (s, v) = fit(hdr.begin as usize).expect("inline values fit a fresh page");
                (index, hdr, s, v)
            }
        };
        debug_assert_eq!(index, self.lo);
        let base = self.front;
        let q = hdr.begin as usize;
        let sizes = Sizes {
            prev: 0,
            next: (q - s) as u32,
        };
        if hdr.begin == hdr.end {
            hdr.last = sizes.next;
        } else {
            // SAFETY: the old first record starts at `q` inside this page.
            unsafe { (*base.add(q).cast::<Sizes>().as_ptr()).prev = sizes.next };
        }
        hdr.begin = s as u32;
        // SAFETY: 1. the header is at the page base; 2. the record `s..q`
        // lies inside the page's payload, before all others.
        let rec = unsafe {
            Self::hdr(base).write(hdr);
            let rec = base.add(s);
            rec.cast::<Sizes>().write(sizes);
            rec
        };
        let value = if place == Place::Inline {
            // SAFETY: `v..v + size` lies inside the record.
            unsafe { base.add(v) }
        } else {
            self.outside(layout, place)
        };
        self.len += 1;
        self.live += layout.size();
        (rec, value)
    }

    /// The first record, if any.
    #[inline]
    pub(crate) fn first(&self) -> Option<Pos> {
        if self.lo == self.hi {
            return None;
        }
        // SAFETY: pages in use hold an initialized header.
        let hdr = unsafe { Self::hdr(self.front).read() };
        Some(Pos {
            page: self.lo,
            off: hdr.begin,
        })
    }

    /// The first record, if any (the hot path of pops at the front).
    #[inline]
    pub(crate) fn first_rec(&self) -> Option<NonNull<u8>> {
        if self.lo == self.hi {
            return None;
        }
        // SAFETY: 1. pages in use hold an initialized header; 2. its first
        // record lies inside the page.
        unsafe {
            let hdr = Self::hdr(self.front).read();
            Some(self.front.add(hdr.begin as usize))
        }
    }

    /// The last record, if any.
    #[inline]
    pub(crate) fn last_rec(&self) -> Option<NonNull<u8>> {
        if self.lo == self.hi {
            return None;
        }
        // SAFETY: as in `first_rec`, for the last record.
        unsafe {
            let hdr = Self::hdr(self.back).read();
            Some(self.back.add((hdr.end - hdr.last) as usize))
        }
    }

    /// The record after `pos`, if any.
    #[inline]
    pub(crate) fn next(&self, pos: Pos) -> Option<Pos> {
        let base = self.page(pos.page);
        // SAFETY: `pos` is a record of this engine; pages hold a header.
        let (sizes, hdr) = unsafe { (Self::sizes(self.rec(pos)), Self::hdr(base).read()) };
        let off = pos.off + sizes.next;
        if off < hdr.end {
            return Some(Pos {
                page: pos.page,
                off,
            });
        }
        let page = pos.page + 1;
        if page >= self.hi {
            return None;
        }
        let base = self.page(page);
        // SAFETY: pages in use hold an initialized header.
        let hdr = unsafe { Self::hdr(base).read() };
        Some(Pos {
            page,
            off: hdr.begin,
        })
    }

    /// A cursor at the first record.
    #[inline]
    pub(crate) fn front_cursor(&self) -> Option<RecordCursor> {
        if self.lo == self.hi {
            return None;
        }
        let base = self.front;
        // SAFETY: pages in use hold an initialized header.
        let hdr = unsafe { Self::hdr(base).read() };
        Some(RecordCursor {
            page: self.lo,
            base,
            off: hdr.begin,
            lim: hdr.end,
        })
    }

    /// A cursor at the last record.
    #[inline]
    pub(crate) fn back_cursor(&self) -> Option<RecordCursor> {
        if self.lo == self.hi {
            return None;
        }
        let base = self.back;
        // SAFETY: pages in use hold an initialized header.
        let hdr = unsafe { Self::hdr(base).read() };
        Some(RecordCursor {
            page: self.hi - 1,
            base,
            off: hdr.end - hdr.last,
            lim: hdr.begin,
        })
    }

    /// A front cursor at the first record of page `page` (in use).
    #[inline]
    pub(crate) fn page_cursor(&self, page: usize) -> RecordCursor {
        debug_assert!(self.lo <= page && page < self.hi);
        let base = self.page(page);
        // SAFETY: pages in use hold an initialized header.
        let hdr = unsafe { Self::hdr(base).read() };
        RecordCursor {
            page,
            base,
            off: hdr.begin,
            lim: hdr.end,
        }
    }

    /// Moves a front cursor to the next record; false past the last one.
    #[inline]
    pub(crate) fn advance(&self, cursor: &mut RecordCursor) -> bool {
        // SAFETY: the cursor is at a record of this engine.
        let sizes = unsafe { Self::sizes(cursor.rec()) };
        cursor.off += sizes.next;
        if cursor.off < cursor.lim {
            return true;
        }
        let page = cursor.page + 1;
        if page >= self.hi {
            return false;
        }
        *cursor = self.page_cursor(page);
        true
    }

    /// Moves a back cursor to the previous record; false before the first.
    #[inline]
    pub(crate) fn retreat(&self, cursor: &mut RecordCursor) -> bool {
        if cursor.off > cursor.lim {
            // SAFETY: the cursor is at a record of this engine.
            let sizes = unsafe { Self::sizes(cursor.rec()) };
            cursor.off -= sizes.prev;
            return true;
        }
        if cursor.page <= self.lo {
            return false;
        }
        let page = cursor.page - 1;
        let base = self.page(page);
        // SAFETY: pages in use hold an initialized header.
        let hdr = unsafe { Self::hdr(base).read() };
        *cursor = RecordCursor {
            page,
            base,
            off: hdr.end - hdr.last,
            lim: hdr.begin,
        };
        true
    }

    /// Frees the heap block of a value of `layout` at `value`, after
    /// `remove_first` or `remove_last` said it has one.
    ///
    /// # Safety
    ///
    /// `value` must be the value pointer of a removed record whose value
    /// lives in a heap block (`Place::Heap`) and is gone (moved or dropped).
    #[inline(never)]
    pub(crate) unsafe fn free_heap(&mut self, value: NonNull<u8>, layout: Layout) {
        self.heap -= layout.size();
        // SAFETY: `Place::Heap` values live in blocks from `alloc_heap`
        // (`page::raw::allocate`) with this very layout.
        unsafe { deallocate(value, layout) };
    }

    /// Removes the first record, whose value has `layout`; returns whether
    /// the value lives in a heap block, which the caller must then free
    /// with [`free_heap`](Self::free_heap) once the value is gone.
    ///
    /// The value's bytes are not touched: the caller may move the value
    /// out or drop it after this call, until the next push (pages emptied
    /// here are kept as reserve pages, never freed).
    ///
    /// # Safety
    ///
    /// There must be a first record, `layout` must be its value's and
    /// `key` its [`heap_key`](Self::heap_key); the caller takes over that
    /// value (moves it out or drops it).
    #[inline]
    pub(crate) unsafe fn remove_first(&mut self, layout: Layout, key: usize) -> bool {
        self.live -= layout.size();
        let base = self.front;
        // SAFETY: 1. the page holds a header; 2. its first record is at
        // `begin` and, when one follows, the next starts `next` bytes on.
        unsafe {
            let mut hdr = Self::hdr(base).read();
            let sizes = Self::sizes(base.add(hdr.begin as usize));
            hdr.begin += sizes.next;
            self.len -= 1;
            Self::hdr(base).write(hdr);
            if hdr.begin == hdr.end {
                // Kept as a reserve page.
                self.lo += 1;
                self.sync_ends();
            }
        }
        self.has_heap_block(layout, key)
    }

    /// Removes the last record, as [`remove_first`](Self::remove_first).
    ///
    /// # Safety
    ///
    /// As for `remove_first`, for the last record.
    #[inline]
    pub(crate) unsafe fn remove_last(&mut self, layout: Layout, key: usize) -> bool {
        self.live -= layout.size();
        let base = self.back;
        // SAFETY: the page holds a header and its last record starts
        // `last` bytes before `end`.
        unsafe {
            let mut hdr = Self::hdr(base).read();
            let sizes = Self::sizes(base.add((hdr.end - hdr.last) as usize));
            hdr.end -= hdr.last;
            hdr.last = sizes.prev;
            self.len -= 1;
            Self::hdr(base).write(hdr);
            if hdr.begin == hdr.end {
                // Kept as a reserve page.
                self.hi -= 1;
                self.sync_ends();
            }
        }
        self.has_heap_block(layout, key)
    }

    /// What the page containing `addr` holds, if this engine owns it.
    ///
    /// Counts the page's records by walking their chain (no counter is
    /// kept: the hot paths would update it on every push and pop).
    pub(crate) fn info_for(&self, addr: *const u8) -> Option<PageInfo> {
        let base = self.pages.page_base_for(addr)?;
        // SAFETY: a page in use starts with an initialized header.
        let hdr = unsafe { Self::hdr(base).read() };
        let mut records = 0;
        let mut off = hdr.begin;
        while off < hdr.end {
            // SAFETY: `off` is a record of the page: the records chained
            // from `begin` end exactly at `end` (invariant of `PageHdr`).
            off += unsafe { Self::sizes(base.add(off as usize)) }.next;
            records += 1;
        }
        Some(PageInfo {
            records,
            used_bytes: (hdr.end - hdr.begin) as usize,
            page_bytes: self.page_size().get(),
        })
    }

    /// Pages holding records.
    pub(crate) fn pages(&self) -> usize {
        self.hi - self.lo
    }

    /// Space statistics: the values are live; pages (the
    /// spare one included) and heap blocks are reserved.
    pub(crate) fn stats(&self) -> SpaceStats {
        SpaceStats::new(self.live, self.pages.stats().reserved_bytes + self.heap)
    }

    /// Returns the reserve pages and the page list's spare page to the
    /// allocator.
    pub(crate) fn release_reserve(&mut self) {
        while self.hi < self.pages.len() {
            self.pages.pop_back();
        }
        while self.lo > 0 {
            self.pages.pop_front();
            self.lo -= 1;
            self.hi -= 1;
        }
        self.sync_ends();
        self.pages.shrink_to_fit();
    }

    /// A lower bound of the pages the records need when packed densely
    /// from the front (padding ignored).
    pub(crate) fn dense_pages(&self) -> usize {
        let per_page = self.pages.payload_len();
        let bytes = self.live - self.heap + self.head * self.len;
        bytes.div_ceil(per_page.max(1))
    }

    /// An empty engine with the same geometry.
    pub(crate) fn empty_like(&self) -> Self {
        Self {
            pages: PageList::with_page_size(self.page_size()),
            lo: 0,
            hi: 0,
            front: no_room(),
            back: no_room(),
            head: self.head,
            inline_max: self.inline_max,
            len: 0,
            live: 0,
            heap: 0,
        }
    }

    /// Appends a record for a value that already lives out of the pages
    /// (heap or zero-sized) and is taken over from another engine.
    pub(crate) fn adopt_back(&mut self, layout: Layout) -> NonNull<u8> {
        debug_assert_ne!(self.place(layout), Place::Inline);
        // A record with no in-page value; the value pointer it returns is
        // a fresh heap block for heap values, which the caller must not
        // want: allocate the record only.
        let zst = Layout::new::<()>();
        let (rec, _) = self.push_back(zst, self.head);
        self.live += layout.size();
        if self.place(layout) == Place::Heap {
            self.heap += layout.size();
        }
        rec
    }

    /// Forgets every record without touching the values (they were moved
    /// to another engine or dropped by the caller); frees all pages.
    pub(crate) fn forget_all(&mut self) {
        self.pages.clear();
        self.lo = 0;
        self.hi = 0;
        self.sync_ends();
        self.len = 0;
        self.live = 0;
        self.heap = 0;
    }
}

// Memory maps (`crate::memory_map`).
impl Records {
    /// Adds to `map` a block per page (the page header; in pages holding
    /// records, free room up to the first record, each record's header as
    /// metadata and its value, where `value(record)` says it is, as live
    /// with padding around it, then free room after the last record;
    /// reserve pages free), the idle pages, then a live block per value
    /// that sits outside the pages.
    ///
    /// `value(record)` returns the address and size of the value of the
    /// record at `record`.
    pub(crate) fn map_into(
        &self,
        map: &mut crate::memory_map::MemoryMap,
        value: impl Fn(NonNull<u8>) -> (NonNull<u8>, usize),
    ) {
        use crate::memory_map::SpanKind;
        let page_size = self.page_size().get();
        let mut outside = alloc::vec::Vec::new();
        self.pages.map_pages(map, |index, _, block| {
            if !(self.lo..self.hi).contains(&index) {
                block.push_to(SpanKind::Free, page_size);
                return;
            }
            let base = self.page(index);
            // SAFETY: a page of the list starts with an initialized header.
            let hdr = unsafe { Self::hdr(base).read() };
            block.push_to(SpanKind::Free, hdr.begin as usize);
            let mut off = hdr.begin as usize;
            while off < hdr.end as usize {
                // SAFETY: `off` is a record of the page: the records chained
                // from `begin` end exactly at `end` (invariant of `PageHdr`).
                let rec = unsafe { base.add(off) };
                // SAFETY: `rec` is a record of this engine.
                let next = unsafe { Self::sizes(rec) }.next as usize;
                block.push(SpanKind::Metadata, self.head);
                let (at, size) = value(rec);
                let inside = at.addr().get().wrapping_sub(rec.addr().get());
                if size > 0 && inside < next {
                    block
                        .push_to(SpanKind::Padding, off + inside)
                        .push(SpanKind::Live, size);
                } else if size > 0 {
                    outside.push((at.addr().get(), size));
                }
                block.push_to(SpanKind::Padding, off + next);
                off += next;
            }
            block.push_to(SpanKind::Free, page_size);
        });
        for (address, size) in outside {
            map.push_uniform("large value", address, SpanKind::Live, size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks the chain of the page at `page` through the sizes alone.
    fn chain(records: &Records, page: usize) -> Vec<Sizes> {
        let base = records.page(page);
        // SAFETY: a page in use holds a header and records `begin..end`.
        unsafe {
            let hdr = Records::hdr(base).read();
            let mut out = Vec::new();
            let mut off = hdr.begin;
            while off < hdr.end {
                let sizes = Records::sizes(base.add(off as usize));
                off += sizes.next;
                out.push(sizes);
            }
            assert_eq!(off, hdr.end, "the sizes chain ends exactly at `end`");
            out
        }
    }

    impl Records {
        fn push_back_h(&mut self, layout: Layout) -> (NonNull<u8>, NonNull<u8>) {
            self.push_back(layout, self.head)
        }
        fn push_front_h(&mut self, layout: Layout) -> (NonNull<u8>, NonNull<u8>) {
            self.push_front(layout, self.head)
        }
    }

    #[test]
    fn records_carry_the_size_before_and_their_own() {
        // The offsets asserted are a 64-bit target's (the header is three
        // `usize`s); the rest holds on every target.
        let wide = cfg!(target_pointer_width = "64");
        let mut records = Records::new(PageSize::DEFAULT, Layout::new::<[usize; 3]>());
        if wide {
            assert_eq!(records.head, 32);
        }
        let (_, a) = records.push_back_h(Layout::new::<u8>());
        let (_, b) = records.push_back_h(Layout::new::<[u64; 5]>());
        let (_, c) = records.push_front_h(Layout::from_size_align(8, 64).unwrap());
        assert_eq!(b.as_ptr().addr() % align_of::<u64>(), 0);
        assert_eq!(c.as_ptr().addr() % 64, 0, "over-aligned in the page");
        assert!(a < b, "pushes at the back grow upwards");
        // The front push opened a page before the first one, growing down.
        assert_eq!(records.pages(), 2);
        let back = chain(&records, 1);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].prev, 0);
        if wide {
            assert_eq!(back[0].next, 40, "32-byte header, 1 byte, padded to 8");
            assert_eq!(back[1].next, 72);
        }
        assert_eq!(back[1].prev, back[0].next);
        let front = chain(&records, 0);
        assert_eq!(front.len(), 1);
        let (_, d) = records.push_front_h(Layout::new::<u32>());
        assert!(d < c, "pushes at the front grow downwards");
        let front = chain(&records, 0);
        assert_eq!(
            front[1].prev, front[0].next,
            "the old first record's prev was patched"
        );
        // Removing the last record restores `last` from its `prev`.
        let five = Layout::new::<[u64; 5]>();
        // SAFETY: the values are plain bytes, nothing to drop.
        assert!(!unsafe { records.remove_last(five, Records::heap_key(five)) });
        assert_eq!(chain(&records, 1).len(), 1);
        let (_, b2) = records.push_back_h(Layout::new::<[u64; 5]>());
        assert_eq!(b2, b, "the freed space is reused");
        assert_eq!(records.len(), 4);
    }

    #[test]
    fn placement_follows_the_layout() {
        let records = Records::new(PageSize::DEFAULT, Layout::new::<[usize; 3]>());
        assert_eq!(records.place(Layout::new::<()>()), Place::Zst);
        assert_eq!(records.place(Layout::new::<[u8; 900]>()), Place::Inline);
        assert_eq!(records.place(Layout::new::<[u8; 4096]>()), Place::Heap);
        let aligned = Layout::from_size_align(8, 8192).unwrap();
        assert_eq!(records.place(aligned), Place::Heap);
        // The key a pop compares gives the same answer for every layout,
        // zero-sized ones aligned past the inline bound included.
        for size in [0, 1, 8, 900, 4000, 4096, 10_000] {
            for align in [1, 8, 64, 4096, 8192] {
                let layout = Layout::from_size_align(size, align).unwrap();
                assert_eq!(
                    Records::heap_key(layout) > records.inline_max,
                    records.place(layout) == Place::Heap,
                    "{layout:?}"
                );
            }
        }
    }

    /// The push fast paths place a value in its record when its size plus
    /// alignment is within `min_inline(head)`, without reading
    /// `inline_max`: every engine, whatever its page size and header, must
    /// then place it inline too (`new` asserts it; this makes every such
    /// engine). The bound is tight: the smallest page reaches it.
    #[test]
    fn the_inline_bound_holds_for_every_page_size_and_header() {
        for meta in [8, 16, 24, 32, 48, 64] {
            let meta = Layout::from_size_align(meta, 8).unwrap();
            let mut tight = false;
            for shift in 6..=20 {
                let records = Records::new(PageSize::new(1 << shift).unwrap(), meta);
                let bound = Records::min_inline(records.head);
                assert!(bound <= records.inline_max);
                tight |= bound == records.inline_max;
                let fits = Layout::from_size_align(bound - 8, 8).unwrap();
                assert!(records.fits_inline_at(fits, records.head));
                assert_eq!(records.place(fits), Place::Inline);
            }
            assert!(tight, "the smallest page has exactly the bound");
        }
        // A trait object's header: 8 bytes of sizes, a fat pointer and the
        // operations.
        assert_eq!(Records::min_inline(32), 92);
    }

    /// While no page is in use, both fast paths fail their room check on
    /// `NO_ROOM` and the slow paths open a page; draining a list leaves
    /// it there again.
    #[test]
    fn an_empty_engine_opens_a_page_at_either_end() {
        let mut records = Records::new(PageSize::DEFAULT, Layout::new::<[usize; 3]>());
        for round in 0..3 {
            assert_eq!(records.front, no_room());
            assert_eq!(records.back, no_room());
            let (_, a) = if round % 2 == 0 {
                records.push_back_h(Layout::new::<u64>())
            } else {
                records.push_front_h(Layout::new::<u64>())
            };
            assert_eq!(records.pages(), 1);
            assert!(records.info_for(a.as_ptr()).is_some());
            assert_eq!(records.info_for(a.as_ptr()).unwrap().records, 1);
            let word = Layout::new::<u64>();
            // SAFETY: the value is a plain `u64`, nothing to drop.
            assert!(!unsafe { records.remove_first(word, Records::heap_key(word)) });
            assert_eq!(records.pages(), 0);
            assert_eq!(records.info_for(a.as_ptr()).unwrap().records, 0);
        }
        assert_eq!(NO_ROOM.begin, 0);
        assert_eq!(NO_ROOM.end, NO_ROOM_END, "never written");
    }
}
