//! The non-generic core of the scoped arena: the block list owned by a
//! [`MemoryArena`](super::MemoryArena) and the bump cursor owned by an open
//! [`ArenaScope`](super::ArenaScope).
//!
//! Everything here works on raw bytes and [`Layout`]s; the typed, safe API in
//! the parent module is a thin layer over it, so the generic code that gets
//! monomorphized per value type is only the part that writes the value.

use ::alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::Cell;
use core::ptr::{self, NonNull};

use crate::{AllocError, page};

pub(super) mod drop_list;
pub(super) mod scope;

/// Alignment of every block. Requests aligned to at most this never need
/// padding at the start of a block.
pub(crate) const BLOCK_ALIGN: usize = 16;

/// One block of memory from the global allocator.
pub(crate) struct ScopedBlock {
    /// Start of the block: the pointer returned by
    /// [`try_allocate`](crate::page::raw::try_allocate) for
    /// `Layout::from_size_align(size, BLOCK_ALIGN)`, owned by the [`Blocks`]
    /// that holds this block.
    ptr: NonNull<u8>,
    /// Size of the block in bytes; never zero.
    size: usize,
}

impl ScopedBlock {
    /// Allocates a block of `size` (non-zero) bytes.
    fn new(size: usize) -> Result<ScopedBlock, AllocError> {
        // Allocating zero bytes is undefined behaviour: checked in every
        // build (once per block).
        assert!(size > 0, "a block has a non-zero size");
        let layout =
            Layout::from_size_align(size, BLOCK_ALIGN).map_err(|_| AllocError::CapacityOverflow)?;
        let ptr = page::raw::try_allocate(layout).ok_or(AllocError::OutOfMemory { layout })?;
        Ok(ScopedBlock { ptr, size })
    }

    /// One past the last byte of the block.
    fn end(&self) -> *mut u8 {
        // SAFETY: `size` is the size of the allocation starting at `ptr`, so
        // the result is its one-past-the-end pointer.
        unsafe { self.ptr.as_ptr().add(self.size) }
    }
}

impl Drop for ScopedBlock {
    fn drop(&mut self) {
        // SAFETY: `ptr` was returned by `page::raw::try_allocate` for exactly
        // this layout (which was valid then, so it is valid now) and is freed
        // once, here.
        unsafe {
            page::raw::deallocate(
                self.ptr,
                Layout::from_size_align_unchecked(self.size, BLOCK_ALIGN),
            );
        }
    }
}

/// The blocks of a [`MemoryArena`](super::MemoryArena) and which of them the
/// open scope is using.
///
/// Standard blocks serve bump allocation and are used in order, one after
/// the other: a scope that makes the same requests as an earlier one switches
/// blocks at the same points, so it needs no more of them. Dedicated blocks
/// serve requests bigger than a standard block, one request each, picked
/// best-fit (the smallest free block that holds the request), which finds a
/// block whenever any assignment of free blocks to the scope's requests would:
/// a scope never allocates if an earlier scope made the same requests.
pub(crate) struct Blocks {
    /// Blocks of exactly `block_size` bytes.
    standard: Vec<ScopedBlock>,
    /// `standard[..standard_taken]` have been the current block of the open
    /// scope; the last of them is the current one. Invariant:
    /// `standard_taken <= standard.len()`.
    standard_taken: usize,
    /// Blocks bigger than `block_size`, each sized for the request that
    /// first needed it.
    dedicated: Vec<ScopedBlock>,
    /// `dedicated[..dedicated_taken]` hold a request of the open scope.
    /// Invariant: `dedicated_taken <= dedicated.len()`.
    dedicated_taken: usize,
    /// Size of a standard block in bytes.
    block_size: usize,
    /// Sum of the sizes of all blocks. Invariant: kept equal to that sum.
    reserved: usize,
    /// Bytes handed out by the open scope in blocks other than the current
    /// one (padding included).
    used_elsewhere: usize,
}

impl Blocks {
    /// An empty block list; nothing is allocated until the first request.
    pub(crate) const fn new(block_size: usize) -> Blocks {
        Blocks {
            standard: Vec::new(),
            standard_taken: 0,
            dedicated: Vec::new(),
            dedicated_taken: 0,
            block_size,
            reserved: 0,
            used_elsewhere: 0,
        }
    }

    /// Size of a standard block in bytes.
    pub(crate) fn block_size(&self) -> usize {
        self.block_size
    }

    /// Number of blocks owned.
    pub(crate) fn len(&self) -> usize {
        self.standard.len() + self.dedicated.len()
    }

    /// Bytes owned from the global allocator (sum of block sizes).
    pub(crate) fn reserved(&self) -> usize {
        self.reserved
    }

    /// Bytes handed out by the open scope outside its current block.
    pub(crate) fn used_elsewhere(&self) -> usize {
        self.used_elsewhere
    }

    /// Starts a new scope: every block becomes free and the first standard
    /// block (if any) becomes the current block of `cursor`. Never
    /// allocates.
    #[inline]
    pub(crate) fn open(&mut self, cursor: &ScopedCursor) {
        self.dedicated_taken = 0;
        self.used_elsewhere = 0;
        match self.standard.first() {
            Some(block) => {
                self.standard_taken = 1;
                cursor.set_block(block);
            }
            None => {
                self.standard_taken = 0;
                cursor.clear();
            }
        }
    }

    /// Serves `layout` (non-zero size) when it does not fit the rest of the
    /// current block of `cursor`: either from the next standard block, which
    /// becomes current, or, when the request is bigger than a standard
    /// block, from a dedicated block that leaves the current block as it is.
    #[cold]
    #[inline(never)]
    pub(crate) fn alloc_slow(
        &mut self,
        cursor: &ScopedCursor,
        layout: Layout,
    ) -> Result<NonNull<u8>, AllocError> {
        debug_assert!(layout.size() > 0);
        // Worst-case bytes needed at the start of a BLOCK_ALIGN-aligned block,
        // the size rounded up as `ScopedCursor::bump` does.
        let size = round_up(layout.size());
        let need = if layout.align() <= BLOCK_ALIGN {
            size
        } else {
            // Cannot overflow: `Layout` keeps `size + align - 1 <= isize::MAX`
            // and `align > MIN_ALIGN`, so the rounding stays below that.
            size + (layout.align() - BLOCK_ALIGN)
        };
        if self.standard_taken == 0 && self.block_size > 0 {
            // No current block yet (the arena had no standard block when the
            // scope opened): make the first one current, as it would have
            // been had it existed, so that a scope repeating an earlier
            // scope's requests makes the same decisions, and try it.
            if self.standard.is_empty() {
                let block = ScopedBlock::new(self.block_size)?;
                self.reserved += block.size;
                self.standard.push(block);
            }
            cursor.set_block(&self.standard[0]);
            self.standard_taken = 1;
            if let Some(p) = cursor.bump(layout) {
                return Ok(p);
            }
        }
        if need <= self.block_size {
            if self.standard_taken == self.standard.len() {
                let block = ScopedBlock::new(self.block_size)?;
                self.reserved += block.size;
                self.standard.push(block);
            }
            self.used_elsewhere += cursor.used();
            cursor.set_block(&self.standard[self.standard_taken]);
            self.standard_taken += 1;
            // Cannot fail: the block is fresh and holds at least `need` bytes.
            let p = cursor.bump(layout);
            debug_assert!(p.is_some());
            p.ok_or(AllocError::CapacityOverflow)
        } else {
            let free = &self.dedicated[self.dedicated_taken..];
            let i = match free
                .iter()
                .enumerate()
                .filter(|(_, b)| b.size >= need)
                .min_by_key(|(_, b)| b.size)
            {
                Some((i, _)) => self.dedicated_taken + i,
                None => {
                    let block = ScopedBlock::new(need)?;
                    self.reserved += block.size;
                    self.dedicated.push(block);
                    self.dedicated.len() - 1
                }
            };
            self.dedicated.swap(self.dedicated_taken, i);
            let start = self.dedicated[self.dedicated_taken].ptr.as_ptr();
            self.dedicated_taken += 1;
            let pad = start.addr().wrapping_neg() & (layout.align() - 1);
            // SAFETY: `pad + size <= need <= block size`, so the result lies
            // in the block.
            let p = unsafe { start.add(pad) };
            self.used_elsewhere += pad + size;
            // SAFETY: derived from a non-null block pointer by an in-bounds
            // offset.
            Ok(unsafe { NonNull::new_unchecked(p) })
        }
    }

    /// Where the open scope stands in the block list, for
    /// [`Self::rewind`].
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            standard_taken: self.standard_taken,
            dedicated_taken: self.dedicated_taken,
            used_elsewhere: self.used_elsewhere,
        }
    }

    /// Gives back every block taken since `mark`: the standard blocks
    /// after the one current then, and the dedicated blocks. Never frees.
    ///
    /// `mark` must come from [`Self::mark`] during the same scope (blocks
    /// are only added while a scope is open, and `reset` / `clear` need the
    /// arena, which the scope borrows, so the marked blocks still exist).
    pub(crate) fn rewind(&mut self, mark: Mark) {
        debug_assert!(
            mark.standard_taken <= self.standard_taken
                && mark.dedicated_taken <= self.dedicated_taken
        );
        self.standard_taken = mark.standard_taken;
        self.dedicated_taken = mark.dedicated_taken;
        self.used_elsewhere = mark.used_elsewhere;
    }

    /// Frees every block but the first standard one.
    pub(crate) fn reset(&mut self) {
        self.standard.truncate(1);
        self.dedicated.clear();
        self.standard_taken = 0;
        self.dedicated_taken = 0;
        self.used_elsewhere = 0;
        self.reserved = self.standard.len() * self.block_size;
    }

    /// Frees every block.
    pub(crate) fn clear(&mut self) {
        self.standard.clear();
        self.reset();
    }
}

/// A position in the block list of an open scope: see [`Blocks::mark`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    /// `Blocks::standard_taken` then.
    standard_taken: usize,
    /// `Blocks::dedicated_taken` then.
    dedicated_taken: usize,
    /// `Blocks::used_elsewhere` then.
    used_elsewhere: usize,
}

/// The bump cursor of an open scope: `start..ptr` of the current block is
/// handed out, `ptr..end` is free.
///
/// Invariant: either all three pointers are null (no current block), or
/// `start <= ptr <= end` lie in (or one past) one block of the scope's
/// [`Blocks`], with `start` the block's first byte and `end` one past its
/// last.
pub(crate) struct ScopedCursor {
    /// First byte of the current block.
    start: Cell<*mut u8>,
    /// Next free byte.
    ptr: Cell<*mut u8>,
    /// One past the last byte of the current block.
    end: Cell<*mut u8>,
}

impl ScopedCursor {
    /// A cursor with no current block: every request takes the slow path.
    pub(crate) const fn empty() -> ScopedCursor {
        ScopedCursor {
            start: Cell::new(ptr::null_mut()),
            ptr: Cell::new(ptr::null_mut()),
            end: Cell::new(ptr::null_mut()),
        }
    }

    fn clear(&self) {
        self.start.set(ptr::null_mut());
        self.ptr.set(ptr::null_mut());
        self.end.set(ptr::null_mut());
    }

    /// Moves this cursor's position to a new cursor and leaves this one with
    /// no current block (every request it gets then takes the slow path).
    pub(crate) fn hand_over(&self) -> ScopedCursor {
        let taken = ScopedCursor {
            start: Cell::new(self.start.get()),
            ptr: Cell::new(self.ptr.get()),
            end: Cell::new(self.end.get()),
        };
        self.clear();
        taken
    }

    /// This cursor's position, for [`Self::restore`].
    pub(crate) fn position(&self) -> [*mut u8; 3] {
        [self.start.get(), self.ptr.get(), self.end.get()]
    }

    /// Goes back to `position`, which must be a [`Self::position`] of this
    /// cursor taken during the same scope (so it satisfies the invariant:
    /// its block still belongs to the scope, and every byte after `ptr`
    /// is free again once the scopes that used it ended).
    pub(crate) fn restore(&self, [start, ptr, end]: [*mut u8; 3]) {
        self.start.set(start);
        self.ptr.set(ptr);
        self.end.set(end);
    }

    fn set_block(&self, block: &ScopedBlock) {
        self.start.set(block.ptr.as_ptr());
        self.ptr.set(block.ptr.as_ptr());
        self.end.set(block.end());
    }

    /// Bytes handed out from the current block.
    pub(crate) fn used(&self) -> usize {
        self.ptr.get().addr() - self.start.get().addr()
    }

    /// Bumps `layout` (non-zero size) out of the current block, or returns
    /// `None` when it does not fit.
    #[inline(always)]
    pub(crate) fn bump(&self, layout: Layout) -> Option<NonNull<u8>> {
        let ptr = self.ptr.get();
        // Redundant: blocks start `BLOCK_ALIGN`-aligned and every bump
        // rounds its size up to `MIN_ALIGN` (`round_up`).
        debug_assert_eq!(ptr.addr() % MIN_ALIGN, 0);
        let avail = self.end.get().addr() - ptr.addr();
        // No overflow: `Layout` keeps `size <= isize::MAX`.
        let size = round_up(layout.size());
        // Both branches are decided at compile time for a typed request.
        let pad = if layout.align() <= MIN_ALIGN {
            // The cursor is always MIN_ALIGN-aligned: nothing to do.
            0
        } else {
            ptr.addr().wrapping_neg() & (layout.align() - 1)
        };
        // No overflow: `pad < align`, and `size` is at most `Layout`'s size
        // rounded up to `align` (`<= isize::MAX`) or, for `align < MIN_ALIGN`,
        // `isize::MAX + MIN_ALIGN`.
        if pad + size > avail {
            return None;
        }
        // SAFETY: `pad + size <= end - ptr` and `size > 0`, so there is a
        // current block (a null cursor has `avail == 0`) and both offsets stay
        // within it. The new cursor stays MIN_ALIGN-aligned: `ptr` and `pad`
        // (a multiple of `align > MIN_ALIGN`, or 0) and `size` are.
        unsafe {
            let p = ptr.add(pad);
            self.ptr.set(p.add(size));
            Some(NonNull::new_unchecked(p))
        }
    }

    /// Whether `ptr..ptr + size` (`size` rounded as `bump` does) is the most
    /// recent allocation of the current block (so it can be given back or
    /// resized in place).
    #[inline]
    fn is_last(&self, ptr: NonNull<u8>, size: usize) -> bool {
        let a = ptr.as_ptr().addr();
        a >= self.start.get().addr() && a.checked_add(size) == Some(self.ptr.get().addr())
    }

    /// Gives back the most recent allocation of the current block, if
    /// `ptr..ptr + size` is that allocation; otherwise does nothing.
    #[inline]
    pub(crate) fn release(&self, ptr: NonNull<u8>, size: usize) {
        let size = round_up(size);
        if size != 0 && self.is_last(ptr, size) {
            // Stays within the current block and MIN_ALIGN-aligned: the
            // result is `ptr`, which `bump` returned.
            self.ptr.set(self.ptr.get().wrapping_sub(size));
        }
    }

    /// Resizes the most recent allocation `ptr..ptr + old` of the current
    /// block to `new` bytes in place, if it is that allocation, `ptr` is
    /// aligned to `align` and the block has room. Returns whether it did.
    #[inline]
    pub(crate) fn resize_last(
        &self,
        ptr: NonNull<u8>,
        old: usize,
        new: usize,
        align: usize,
    ) -> bool {
        let (old, new) = (round_up(old), round_up(new));
        if old == 0 || !self.is_last(ptr, old) || ptr.as_ptr().addr() & (align - 1) != 0 {
            return false;
        }
        let cur = self.ptr.get();
        if new >= old {
            let grow = new - old;
            if grow > self.end.get().addr() - cur.addr() {
                return false;
            }
            // Stays within the current block (checked just above) and
            // MIN_ALIGN-aligned (`grow` is a multiple).
            self.ptr.set(cur.wrapping_add(grow));
        } else {
            // Stays within the current block (`ptr >= start`) and aligned.
            self.ptr.set(cur.wrapping_sub(old - new));
        }
        true
    }
}

/// Every allocation size is rounded up to a multiple of this, so the cursor
/// is always aligned to it and requests aligned to at most this (almost all)
/// need no alignment work.
pub(crate) const MIN_ALIGN: usize = 8;

/// `size` rounded up to a multiple of [`MIN_ALIGN`].
///
/// Never overflows for a `Layout` size (`<= isize::MAX`).
#[inline(always)]
pub(crate) const fn round_up(size: usize) -> usize {
    (size + (MIN_ALIGN - 1)) & !(MIN_ALIGN - 1)
}

// Memory maps (`crate::memory_map`).
impl Blocks {
    /// Adds a block per standard block, then per dedicated block, to
    /// `map`. With `cursor` (a scope is open): the current block's handed
    /// out bytes are live and the rest free; the blocks the scope used
    /// before it, and the dedicated blocks it holds, are opaque (how much
    /// of each it filled is not recorded, only the sum); the others are
    /// free. Without (between scopes): every block is free.
    pub(crate) fn map_into(
        &self,
        cursor: Option<&ScopedCursor>,
        map: &mut crate::memory_map::MemoryMap,
    ) {
        use crate::memory_map::{Block as MapBlock, SpanKind};
        let open = cursor.is_some();
        for (i, block) in self.standard.iter().enumerate() {
            let mut b = MapBlock::new(::alloc::format!("block {i}"), block.ptr.addr().get());
            match cursor {
                Some(cursor) if i + 1 == self.standard_taken => {
                    b.push(SpanKind::Live, cursor.used());
                }
                _ if open && i + 1 < self.standard_taken => {
                    b.push(SpanKind::Opaque, block.size);
                }
                _ => {}
            }
            b.push_to(SpanKind::Free, block.size);
            map.push(b);
        }
        for (i, block) in self.dedicated.iter().enumerate() {
            let kind = if open && i < self.dedicated_taken {
                SpanKind::Opaque
            } else {
                SpanKind::Free
            };
            map.push_uniform("dedicated block", block.ptr.addr().get(), kind, block.size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_aligns_and_stays_in_block() {
        let mut blocks = Blocks::new(256);
        let cursor = ScopedCursor::empty();
        blocks.open(&cursor);
        assert_eq!(blocks.len(), 0);
        let a = blocks
            .alloc_slow(&cursor, Layout::from_size_align(3, 1).unwrap())
            .unwrap();
        let c = cursor.bump(Layout::from_size_align(4, 4).unwrap()).unwrap();
        // 3 bytes, then 4 at alignment 4: the second lands 8 bytes on. Sizes
        // round up to MIN_ALIGN, so ordinary types need no alignment work.
        assert_eq!(c.as_ptr().addr() - a.as_ptr().addr(), MIN_ALIGN);
        assert_eq!(cursor.used(), 16);
        let over = Layout::from_size_align(241, 4).unwrap();
        assert!(cursor.bump(over).is_none());
        let exact = Layout::from_size_align(240, 4).unwrap();
        assert!(cursor.bump(exact).is_some());
        assert_eq!(cursor.used(), 256);
        // An over-aligned request pads the cursor up.
        blocks.open(&cursor);
        cursor.bump(Layout::from_size_align(8, 1).unwrap()).unwrap();
        let wide = cursor
            .bump(Layout::from_size_align(8, 64).unwrap())
            .unwrap();
        assert_eq!(wide.as_ptr().addr() % 64, 0);
        assert_eq!(cursor.used() % MIN_ALIGN, 0);
        assert_eq!(blocks.len(), 1);
    }

    #[test]
    fn large_requests_get_their_own_block_and_are_reused() {
        let mut blocks = Blocks::new(1024);
        let cursor = ScopedCursor::empty();
        for round in 0..3 {
            blocks.open(&cursor);
            let small = Layout::from_size_align(1000, 4).unwrap();
            let a = cursor
                .bump(small)
                .map_or_else(|| blocks.alloc_slow(&cursor, small), Ok)
                .unwrap();
            assert_eq!(a.as_ptr().addr() % 4, 0);
            let big = Layout::from_size_align(2048, 32).unwrap();
            let b = blocks.alloc_slow(&cursor, big).unwrap();
            assert_eq!(b.as_ptr().addr() % 32, 0);
            // The current block is untouched by the dedicated request.
            assert_eq!(cursor.used(), 1000);
            assert_eq!(blocks.len(), 2, "round {round}");
            assert_eq!(blocks.reserved(), 1024 + 2048 + 16);
        }
        blocks.reset();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks.reserved(), 1024);
        blocks.clear();
        assert_eq!((blocks.len(), blocks.reserved()), (0, 0));
    }

    #[test]
    fn release_and_resize_only_touch_the_last_allocation() {
        let mut blocks = Blocks::new(64);
        let cursor = ScopedCursor::empty();
        blocks.open(&cursor);
        let l8 = Layout::from_size_align(8, 8).unwrap();
        let a = blocks.alloc_slow(&cursor, l8).unwrap();
        let b = cursor.bump(l8).unwrap();
        cursor.release(a, 8);
        assert_eq!(cursor.used(), 16);
        assert!(!cursor.resize_last(a, 8, 16, 8));
        assert!(cursor.resize_last(b, 8, 40, 8));
        assert_eq!(cursor.used(), 48);
        assert!(!cursor.resize_last(b, 40, 57, 8));
        assert!(cursor.resize_last(b, 40, 4, 8));
        assert_eq!(cursor.used(), 16);
        cursor.release(b, 4);
        assert_eq!(cursor.used(), 8);
    }
}
