//! The untyped core of the region: one heap block, object headers, the
//! address-ordered walk, and the sliding compactor.
//!
//! Nothing here is generic over the stored types: every per-type operation
//! goes through a [`Meta`] record whose address is kept in the header.

use core::alloc::Layout;
use core::cell::Cell;
use core::ptr::{self, NonNull};

use crate::error::AllocError;
use crate::visit::{Managed, Visitor};

use super::cells::CellTable;

/// Bytes of an object header; the value starts right after it.
pub(crate) const HEADER: usize = 16;

/// Header flag: the block holds no live value (garbage until compaction).
pub(crate) const FREE: u32 = 0b010;
/// Header flag: the object is owned by the arena and reached through
/// `Forward`s (no `Item` owns it); the arena drops it.
pub(crate) const SHARED: u32 = 0b100;
/// Mask of the flag bits in `Header::size_flags` (bit 0 is always clear in a
/// header, which tells a header from a padding marker).
const FLAGS: u32 = 0b111;

/// What the region needs to know about the type of a stored value.
pub(crate) struct Meta {
    /// `size_of` the value, or `usize::MAX` for a slice of `Copy` elements
    /// (whose size is the block's payload).
    pub(crate) size: usize,
    /// `align_of` the value (of an element, for a slice).
    pub(crate) align: usize,
    /// Drops the value in place.
    pub(crate) drop: unsafe fn(*mut u8),
    /// Visits the value's direct references, when the type has any.
    pub(crate) visit: Option<unsafe fn(*mut u8, &mut dyn Visitor)>,
}

/// Drops a `T` stored at `p`.
///
/// # Safety
///
/// `p` points to a valid, initialized `T` that is never used again.
unsafe fn drop_erased<T>(p: *mut u8) {
    // SAFETY: the caller hands over a valid `T` it will not use again.
    unsafe { ptr::drop_in_place(p.cast::<T>()) }
}

/// Does nothing: slices of `Copy` elements need no drop.
///
/// # Safety
///
/// Always safe; `unsafe` only to fit the `Meta::drop` signature.
unsafe fn drop_nothing(_: *mut u8) {}

/// Visits the references of a `T` stored at `p`.
///
/// # Safety
///
/// `p` points to a valid `T` to which no other reference is live.
unsafe fn visit_erased<T: Managed>(p: *mut u8, visitor: &mut dyn Visitor) {
    // SAFETY: the caller guarantees a valid, unaliased `T`.
    unsafe { (*p.cast::<T>()).visit_refs(visitor) }
}

/// The static [`Meta`] of each stored type.
pub(crate) struct MetaOf<T: ?Sized>(core::marker::PhantomData<T>);

impl<T: Managed> MetaOf<T> {
    /// The metadata of a single `T`.
    pub(crate) const META: Meta = Meta {
        size: size_of::<T>(),
        align: align_of::<T>(),
        drop: drop_erased::<T>,
        visit: if T::HAS_REFS {
            Some(visit_erased::<T>)
        } else {
            None
        },
    };
}

impl<T: Copy> MetaOf<[T]> {
    /// The metadata of a slice of `Copy` elements: nothing to drop, no
    /// direct references (region references are never `Copy`).
    pub(crate) const SLICE: Meta = Meta {
        size: usize::MAX,
        align: align_of::<T>(),
        drop: drop_nothing,
        visit: None,
    };
}

/// The header that precedes every value.
///
/// Blocks follow each other from the start of the region; a block is
/// optional padding (a `u32` marker `(len << 1) | 1` at its start), then
/// this header, then the value, then tail padding up to a multiple of 8.
#[repr(C)]
pub(crate) struct Header {
    /// Bytes from the header to the end of the block (a multiple of 8, less
    /// than 4 GiB) or'ed with the `FREE` / `SHARED` flags. Bit 0 is clear.
    pub(crate) size_flags: Cell<u32>,
    /// Index + 1 of the forwarding cell that tracks this object (held by a
    /// token or by `Forward`s), or 0.
    pub(crate) cell: Cell<u32>,
    /// The stored type's metadata (meaningless once `FREE`).
    pub(crate) meta: Cell<&'static Meta>,
}

const _: () = assert!(size_of::<Header>() == HEADER && align_of::<Header>() <= 8);

impl Header {
    /// The header of the value at `value`.
    ///
    /// # Safety
    ///
    /// `value` is the value address of a block of a live region.
    #[inline]
    pub(crate) unsafe fn of<'r>(value: NonNull<u8>) -> &'r Header {
        // SAFETY: every value is preceded by its header (caller's contract),
        // and headers are only accessed through `Cell`s.
        unsafe { &*value.as_ptr().sub(HEADER).cast::<Header>() }
    }

    /// Block size in bytes.
    #[inline]
    pub(crate) fn size(&self) -> usize {
        (self.size_flags.get() & !FLAGS) as usize
    }

    /// Whether the block is garbage.
    #[inline]
    pub(crate) fn is_free(&self) -> bool {
        self.size_flags.get() & FREE != 0
    }

    /// Marks the block as garbage.
    #[inline]
    pub(crate) fn set_free(&self) {
        self.size_flags.set(self.size_flags.get() | FREE);
    }

    /// Payload bytes of the value (its size, or the block payload for a slice).
    #[inline]
    pub(crate) fn value_size(&self) -> usize {
        let meta = self.meta.get();
        if meta.size == usize::MAX {
            self.size() - HEADER
        } else {
            meta.size
        }
    }
}

/// Rounds `x` up to a multiple of the power of two `align`, or `None` on
/// overflow.
#[inline]
fn align_up(x: usize, align: usize) -> Option<usize> {
    Some(x.checked_add(align - 1)? & !(align - 1))
}

/// One step of the address-ordered walk.
pub(crate) enum Step<'r> {
    /// Alignment padding of this many bytes.
    Padding(usize),
    /// A block (live or free) with this header.
    Block(&'r Header),
}

/// The region memory and its bump pointer.
pub(crate) struct RawRegion {
    /// Start of the heap block (8-aligned); dangling when `capacity == 0`.
    /// Every value pointer handed out is derived from it.
    base: NonNull<u8>,
    /// Usable bytes, a multiple of 8.
    capacity: usize,
    /// Bytes in use from the start: blocks are laid out in `0..top`, and
    /// `top..capacity` is never-written free space. Invariant:
    /// `top % 8 == 0 && top <= capacity`.
    top: Cell<usize>,
    /// Whether a type with direct references was ever stored, so that
    /// compaction must rewrite references inside the region.
    has_refs: Cell<bool>,
}

impl RawRegion {
    /// Reserves `capacity` bytes (rounded down to a multiple of 8) on the heap.
    pub(crate) fn new(capacity: usize) -> Result<Self, AllocError> {
        let capacity = capacity & !7;
        if capacity == 0 {
            return Ok(Self {
                base: NonNull::<u64>::dangling().cast(),
                capacity,
                top: Cell::new(0),
                has_refs: Cell::new(false),
            });
        }
        let layout =
            Layout::from_size_align(capacity, 8).map_err(|_| AllocError::CapacityOverflow)?;
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { std::alloc::alloc(layout) };
        let base = NonNull::new(base).ok_or(AllocError::OutOfMemory { layout })?;
        Ok(Self {
            base,
            capacity,
            top: Cell::new(0),
            has_refs: Cell::new(false),
        })
    }

    /// Usable bytes of the region.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes from the start of the region to the end of the last block.
    #[inline]
    pub(crate) fn top(&self) -> usize {
        self.top.get()
    }

    /// Whether `p` may be the value address of a block of this region (its
    /// header lies in the used part; a zero-sized value may end the region).
    #[inline]
    pub(crate) fn contains(&self, p: NonNull<u8>) -> bool {
        header_offset(self.base, p) < self.top.get()
    }

    /// Reserves a block for a value of `size` bytes aligned to `align`, and
    /// writes its header (live, with `meta`). Returns the value address; the
    /// caller must initialize the value before anything reads it.
    ///
    /// On failure nothing is written and the region is unchanged.
    #[inline]
    pub(crate) fn reserve(
        &self,
        size: usize,
        align: usize,
        meta: &'static Meta,
    ) -> Result<NonNull<u8>, AllocError> {
        debug_assert!(align.is_power_of_two());
        let top = self.top.get();
        // The value's offset: the first `align`-aligned address leaving room
        // for the header after `top` (`top + HEADER` itself, 8-aligned, for
        // the common alignments up to 8). `top + HEADER` cannot overflow:
        // `top <= capacity <= isize::MAX`.
        let value = if align <= 8 {
            top + HEADER
        } else {
            let base = self.base.addr().get();
            base.checked_add(top + HEADER)
                .and_then(|a| align_up(a, align))
                .map(|a| a - base)
                .ok_or(AllocError::CapacityOverflow)?
        };
        let payload = align_up(size, 8).ok_or(AllocError::CapacityOverflow)?;
        let block = HEADER
            .checked_add(payload)
            .filter(|&b| b <= !FLAGS as usize)
            .ok_or(AllocError::CapacityOverflow)?;
        let gap = value - HEADER - top;
        if gap > (u32::MAX >> 1) as usize {
            return Err(AllocError::CapacityOverflow);
        }
        let end = value
            .checked_add(payload)
            .ok_or(AllocError::CapacityOverflow)?;
        if end > self.capacity {
            return Err(AllocError::Full {
                requested: end.saturating_sub(top),
                available: self.capacity - top,
            });
        }
        if meta.visit.is_some() {
            self.has_refs.set(true);
        }
        // SAFETY: `top + gap + block == end <= capacity`, so every write
        // below is inside the region, in the never-used part after `top`;
        // `top`, `value - HEADER` are multiples of 8 (`align >= 1`, and
        // `value - HEADER` is 8-aligned because `value` is `align`-aligned
        // relative to an 8-aligned base after an 8-aligned `top + HEADER`,
        // or equal to it when `align <= 8`).
        unsafe {
            if gap > 0 {
                self.base
                    .add(top)
                    .cast::<u32>()
                    .write((gap as u32) << 1 | 1);
            }
            self.base
                .add(value - HEADER)
                .cast::<Header>()
                .write(Header {
                    size_flags: Cell::new(block as u32),
                    cell: Cell::new(0),
                    meta: Cell::new(meta),
                });
        }
        self.top.set(end);
        // SAFETY: `value < end <= capacity` is inside the allocation.
        Ok(unsafe { self.base.add(value) })
    }

    /// Reads the step at offset `pos < top` of the walk.
    ///
    /// # Safety
    ///
    /// `pos` is the start of a block or padding run (0, or where the
    /// previous step ended), and `pos < top`.
    #[inline]
    pub(crate) unsafe fn step(&self, pos: usize) -> Step<'_> {
        debug_assert!(pos < self.top.get() && pos % 8 == 0);
        // SAFETY: `pos` starts a padding marker or a header (caller), both
        // begin with an initialized `u32` at an 8-aligned offset.
        let word = unsafe { self.base.add(pos).cast::<u32>().read() };
        if word & 1 == 1 {
            Step::Padding((word >> 1) as usize)
        } else {
            // SAFETY: an even first word is a header's `size_flags`.
            Step::Block(unsafe { self.base.add(pos).cast::<Header>().as_ref() })
        }
    }

    /// Value address of the block whose header is at offset `pos`.
    #[inline]
    pub(crate) fn value_at(&self, pos: usize) -> NonNull<u8> {
        // SAFETY: callers pass the offset of a header inside the region, so
        // the value address is inside (or one past the end of) it.
        unsafe { self.base.add(pos + HEADER) }
    }

    /// The address at offset `off` of the region.
    #[inline]
    pub(crate) fn ptr_at(&self, off: usize) -> NonNull<u8> {
        debug_assert!(off <= self.capacity);
        // SAFETY: callers pass offsets inside the region (or its end).
        unsafe { self.base.add(off) }
    }

    /// Calls `f` on every block (live or free) in address order (padding
    /// runs are skipped).
    pub(crate) fn for_each_block(&self, mut f: impl FnMut(&Header)) {
        let mut pos = 0;
        while pos < self.top.get() {
            // SAFETY: `pos` starts at 0 and advances step by step.
            match unsafe { self.step(pos) } {
                Step::Padding(len) => pos += len,
                Step::Block(h) => {
                    pos += h.size();
                    f(h);
                }
            }
        }
    }

    /// Slides every live object down in address order, so that all free
    /// space forms one block at the end, rewriting the direct references
    /// held inside the region and the forwarding cells of moved objects.
    ///
    /// Panics, before changing anything, if an object in the region holds a
    /// direct reference into another region.
    ///
    /// # Safety
    ///
    /// No reference into the region may be live (the caller holds the arena
    /// exclusively and every `Item` is dead or a token), and `cells` is the
    /// table this region's headers index.
    pub(crate) unsafe fn compact(&mut self, cells: &CellTable) {
        if self.has_refs.get() {
            // SAFETY: forwarded from the caller.
            unsafe { self.rewrite_internal_refs() };
        }
        let top = self.top.get();
        let base = self.base.addr().get();
        let (mut src, mut dst) = (0usize, 0usize);
        while src < top {
            // SAFETY: `src` walks the blocks from 0.
            let header = match unsafe { self.step(src) } {
                Step::Padding(len) => {
                    src += len;
                    continue;
                }
                Step::Block(h) => h,
            };
            let size = header.size();
            if header.is_free() {
                src += size;
                continue;
            }
            let new_value = dst_value(base, dst, header);
            let new_header = new_value - HEADER;
            let cell = header.cell.get();
            // SAFETY: 1. `dst <= new_header <= src` (sliding down keeps the
            // address order and `new_header` is at most the old header
            // offset, as the old one satisfied the same alignment from a
            // higher start), so the marker in `dst..new_header` lies below
            // the block being moved; 2. `slide` handles the overlap of the
            // source and destination blocks (destination below); 3.
            // everything stays within `0..top`.
            unsafe {
                if new_header > dst {
                    let gap = (new_header - dst) as u32;
                    self.base.add(dst).cast::<u32>().write(gap << 1 | 1);
                }
                if new_header != src {
                    slide(self.base.add(src), self.base.add(new_header), size);
                }
            }
            if cell != 0 {
                cells.set_addr(cell - 1, self.value_at(new_header));
            }
            src += size;
            dst = new_header + size;
        }
        self.top.set(dst);
    }

    /// The first two passes of a mark-compact collector, for regions that
    /// store types with direct references: compute every live object's new
    /// address, then rewrite the references held inside live objects.
    ///
    /// # Safety
    ///
    /// As [`compact`](Self::compact).
    unsafe fn rewrite_internal_refs(&mut self) {
        let base = self.base.addr().get();
        let top = self.top.get();
        // Live value offsets before and after the slide, ascending.
        let mut moves: Vec<(usize, usize)> = Vec::new();
        let mut dst = 0;
        let mut foreign = false;
        let mut check = Check {
            region: self,
            foreign: &mut foreign,
        };
        let mut pos = 0;
        while pos < top {
            // SAFETY: `pos` walks the blocks from 0.
            match unsafe { check.region.step(pos) } {
                Step::Padding(len) => pos += len,
                Step::Block(h) => {
                    let size = h.size();
                    if !h.is_free() {
                        let new_value = dst_value(base, dst, h);
                        moves.push((pos + HEADER, new_value));
                        dst = new_value - HEADER + size;
                        if let Some(visit) = h.meta.get().visit {
                            // SAFETY: a live object of the type `meta`
                            // describes; nothing else references it now.
                            unsafe { visit(check.region.value_at(pos).as_ptr(), &mut check) };
                        }
                    }
                    pos += size;
                }
            }
        }
        assert!(
            !foreign,
            "an object in this region holds an Item of another region; \
             objects may only hold Items of their own region"
        );
        let mut fix = Fix {
            base: self.base,
            top,
            moves: &moves,
        };
        for &(old, _) in &moves {
            let value = self.ptr_at(old);
            // SAFETY: `old` is the value offset of a live object (collected
            // above, nothing freed since).
            let h = unsafe { Header::of(value) };
            if let Some(visit) = h.meta.get().visit {
                // SAFETY: a live object of the type `meta` describes, not
                // referenced from anywhere else now.
                unsafe { visit(value.as_ptr(), &mut fix) };
            }
        }
    }
}

/// Moves a block of `size` bytes down from `src` to `dst`.
///
/// # Safety
///
/// `dst < src`, both 8-aligned, `size` a multiple of 8, and both ranges
/// inside one allocation.
#[inline]
unsafe fn slide(src: NonNull<u8>, dst: NonNull<u8>, size: usize) {
    debug_assert!(dst < src && size % 8 == 0);
    if size <= 64 {
        // Small blocks (the common case) without a `memmove` call: an
        // ascending word copy is correct for overlapping ranges when the
        // destination is below the source. Words are copied as
        // `MaybeUninit` because padding bytes may be uninitialized.
        let (src, dst) = (
            src.cast::<core::mem::MaybeUninit<u64>>(),
            dst.cast::<core::mem::MaybeUninit<u64>>(),
        );
        for i in 0..size / 8 {
            // SAFETY: word `i` of both ranges is in bounds and aligned, and
            // source word `i` has not been overwritten yet (`dst < src`).
            unsafe { dst.add(i).write(src.add(i).read()) };
        }
    } else {
        // SAFETY: in bounds (caller); `copy` allows the overlap.
        unsafe { ptr::copy(src.as_ptr(), dst.as_ptr(), size) };
    }
}

/// The offset of the header of the value at `p`, if `p` is in the region
/// starting at `base` (a huge number otherwise).
#[inline]
fn header_offset(base: NonNull<u8>, p: NonNull<u8>) -> usize {
    p.addr()
        .get()
        .wrapping_sub(base.addr().get())
        .wrapping_sub(HEADER)
}

/// Where the value of the live block `header` lands when the blocks before
/// it end at offset `dst`.
#[inline]
fn dst_value(base: usize, dst: usize, header: &Header) -> usize {
    // `base + dst + HEADER` is 8-aligned, and no further than the old value
    // (`dst` is at most the old block's start), which satisfies the same
    // alignment: so the value never moves up.
    let align = header.meta.get().align.max(8);
    // A power of two: mask arithmetic rather than a division.
    let v = (base + dst + HEADER + align - 1) & !(align - 1);
    debug_assert!(v <= (header as *const Header).addr() + HEADER);
    v - base
}

/// Observing visitor: flags references that point outside the region.
struct Check<'r> {
    region: &'r RawRegion,
    foreign: &'r mut bool,
}

impl Visitor for Check<'_> {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        if !self.region.contains(*target) {
            *self.foreign = true;
        }
    }
}

/// Rewriting visitor: maps each reference to its target's new address.
struct Fix<'m> {
    base: NonNull<u8>,
    top: usize,
    moves: &'m [(usize, usize)],
}

impl Visitor for Fix<'_> {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        if header_offset(self.base, *target) >= self.top {
            return;
        }
        let off = target.addr().get() - self.base.addr().get();
        if let Ok(i) = self.moves.binary_search_by_key(&off, |&(old, _)| old) {
            // SAFETY: the new offset is inside the region.
            *target = unsafe { self.base.add(self.moves[i].1) };
        }
    }
}

impl Drop for RawRegion {
    fn drop(&mut self) {
        if self.capacity != 0 {
            // SAFETY: allocated in `new` with this layout (validated there).
            unsafe {
                std::alloc::dealloc(
                    self.base.as_ptr(),
                    Layout::from_size_align_unchecked(self.capacity, 8),
                )
            };
        }
    }
}
