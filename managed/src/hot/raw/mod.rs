//! The non-generic core of the hot pool: blocks, the bump cursor, the free
//! list and the graveyard that keeps leaked blocks reachable.
//!
//! Everything here works on untyped entries described by an [`EntryLayout`];
//! the typed [`Pool`](crate::hot::Pool) passes the layout of its `HotEntry<T>` as a
//! constant, so this code is compiled once for all `T` except for the few
//! `#[inline]` hot paths.

use ::alloc::boxed::Box;
use ::alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::{AllocError, page};

pub(super) mod boxed;
pub(super) mod entry;
pub(super) mod pool;
pub(super) mod rc;
pub(super) mod slot;
#[cfg(test)]
mod tests;

/// State word of an entry on the free list. Its payload holds the link.
pub(crate) const FREE: usize = 0;
/// Allocated, payload not initialized: no reference may be formed.
pub(crate) const UNINIT: usize = 1;
/// Allocated and initialized; no `&mut T` and no `Pin<&mut T>` handed out yet.
pub(crate) const INIT: usize = 2;
/// Initialized; a `&mut T` was handed out, so it can never be pinned.
pub(crate) const MUTABLE: usize = 3;
/// Initialized and pinned: never moved, never mutably borrowed unpinned,
/// dropped in place before its memory is reused.
pub(crate) const PINNED: usize = 4;
/// One owner in the state word of an entry shared by `PoolRc`s, whose word
/// is `count * SHARE_ONE | INIT` (`count >= 1`): above every other state,
/// so every exact-state check (`get_mut`, `pin`, `take`, `forget`) refuses
/// it, and `>= INIT` (initialized) accepts it.
pub(crate) const SHARE_ONE: usize = 8;

/// Smallest first block in bytes: one cache line.
const MIN_BLOCK_BYTES: usize = 64;
/// One page.
const PAGE: usize = 4096;
/// One (x86_64 / aarch64) transparent huge page.
const HUGE_PAGE: usize = 2 << 20;
/// Entries in the first block when the user did not ask for more.
pub(crate) const DEFAULT_MIN_ENTRIES: usize = 64;

/// The shape of one `HotEntry<T>`.
///
/// Invariants: `align` is a power of two and at least 8; `size` is a non-zero
/// multiple of `align`; the state word (`usize`) is at offset 0; a
/// pointer-sized, pointer-aligned free-list link fits at offset `link`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryLayout {
    /// `size_of::<HotEntry<T>>()`.
    pub(crate) size: usize,
    /// `align_of::<HotEntry<T>>()`.
    pub(crate) align: usize,
    /// Offset of the payload, which doubles as the free-list link.
    pub(crate) link: usize,
}

/// One block of entries from the global allocator.
#[derive(Debug)]
struct HotBlock {
    /// Start of the block; entries are laid out from here.
    start: NonNull<u8>,
    /// The layout it was allocated with (power-of-two size).
    layout: Layout,
    /// Number of whole entries that fit in the block.
    capacity: usize,
}

/// A list of leaked blocks hanging off [`GRAVEYARD`].
struct Grave {
    /// The leaked blocks; never deallocated.
    _blocks: Vec<HotBlock>,
    /// The grave buried before this one.
    _next: *mut Grave,
}

/// Every block a pool leaked (dropped with live slots, or `Pool::leak`).
///
/// Leaked blocks stay reachable from this static, so they are "still
/// reachable" rather than lost, for leak checkers (Miri, Valgrind) and for
/// [`leaked_bytes`](crate::hot::leaked_bytes). Graves are pushed and never popped.
static GRAVEYARD: AtomicPtr<Grave> = AtomicPtr::new(ptr::null_mut());
/// Sum of the sizes of all blocks in the graveyard.
static LEAKED_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Total bytes of blocks leaked by pools so far in this process.
pub(crate) fn leaked_bytes() -> usize {
    LEAKED_BYTES.load(Ordering::Relaxed)
}

/// Moves `blocks` to the graveyard: their memory stays valid forever.
fn bury(blocks: Vec<HotBlock>) {
    if blocks.is_empty() {
        return;
    }
    let bytes: usize = blocks.iter().map(|b| b.layout.size()).sum();
    let grave = Box::into_raw(Box::new(Grave {
        _blocks: blocks,
        _next: ptr::null_mut(),
    }));
    let mut head = GRAVEYARD.load(Ordering::Relaxed);
    loop {
        // SAFETY: `grave` came from `Box::into_raw` above and is not shared
        // until the compare-exchange below publishes it.
        unsafe { (*grave)._next = head };
        match GRAVEYARD.compare_exchange_weak(head, grave, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => break,
            Err(now) => head = now,
        }
    }
    LEAKED_BYTES.fetch_add(bytes, Ordering::Relaxed);
}

/// The untyped pool.
///
/// Entries are handed out from the free list first, then from the unused
/// tail of the newest block (`bump..end`), and a new block twice the size of
/// the previous one is allocated when both are exhausted. Blocks are only
/// returned to the global allocator when the pool drops with no live entry.
pub(crate) struct RawPool {
    /// Head of the free list (null when empty). Every entry on it has state
    /// `FREE` and holds the next entry's address (or null) at `link`.
    free: Cell<*mut u8>,
    /// Next never-used entry of the newest block; `bump <= end`, both null
    /// before the first block. Entries in `bump..end` were never handed out
    /// and their memory is uninitialized.
    bump: Cell<*mut u8>,
    /// End of the whole entries of the newest block.
    end: Cell<*mut u8>,
    /// Number of entries handed out and not yet released.
    len: Cell<usize>,
    /// Entries the first block must hold at least; fixed once a block exists.
    min_entries: Cell<usize>,
    /// Every block, oldest first, each twice the bytes of the previous one.
    /// Only borrowed inside methods of this type, never across user code.
    blocks: UnsafeCell<Vec<HotBlock>>,
}

// SAFETY: the pool owns its blocks outright; nothing in it is shared with
// another pool or thread, so moving it to another thread is fine (the typed
// wrapper adds the `T: Send` bound).
unsafe impl Send for RawPool {}

impl RawPool {
    /// A pool with no block whose first block will hold at least
    /// `min_entries` entries; allocates nothing.
    pub(crate) const fn with_min_entries(min_entries: usize) -> Self {
        Self {
            free: Cell::new(ptr::null_mut()),
            bump: Cell::new(ptr::null_mut()),
            end: Cell::new(ptr::null_mut()),
            len: Cell::new(0),
            min_entries: Cell::new(if min_entries == 0 { 1 } else { min_entries }),
            blocks: UnsafeCell::new(Vec::new()),
        }
    }

    /// Runs `f` on the block list.
    fn with_blocks<R>(&self, f: impl FnOnce(&mut Vec<HotBlock>) -> R) -> R {
        // SAFETY: the block list is only borrowed inside `RawPool` methods,
        // none of which calls user code or reenters while it is borrowed, and
        // `RawPool` is `!Sync`, so this is the only borrow.
        f(unsafe { &mut *self.blocks.get() })
    }

    /// Number of live entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.get()
    }

    /// Whether any block exists yet.
    pub(crate) fn has_blocks(&self) -> bool {
        self.with_blocks(|b| !b.is_empty())
    }

    /// Sets the minimum number of entries of the first block.
    ///
    /// # Panics
    /// When the first block already exists.
    #[track_caller]
    pub(crate) fn set_min_entries(&self, min_entries: usize) {
        assert!(
            !self.has_blocks(),
            "Pool::set_min_entries must be called before the first allocation"
        );
        self.min_entries.set(min_entries.max(1));
    }

    /// Total entries in all blocks.
    pub(crate) fn capacity(&self) -> usize {
        self.with_blocks(|b| b.iter().map(|b| b.capacity).sum())
    }

    /// Total bytes of all blocks.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.with_blocks(|b| b.iter().map(|b| b.layout.size()).sum())
    }

    /// Hands out one entry whose state word the caller must write at once.
    #[inline]
    pub(crate) fn alloc(&self, el: EntryLayout) -> Result<NonNull<u8>, AllocError> {
        let head = self.free.get();
        let entry = if !head.is_null() {
            // SAFETY: entries on the free list are valid, aligned entries of
            // our blocks with an initialized link at `el.link`.
            self.free
                .set(unsafe { head.add(el.link).cast::<*mut u8>().read() });
            head
        } else {
            if self.bump.get() == self.end.get() {
                self.grow(el)?;
            }
            let entry = self.bump.get();
            // SAFETY: `bump < end` after `grow`, both inside the newest
            // block, and `end - bump` is a multiple of `el.size`.
            self.bump.set(unsafe { entry.add(el.size) });
            entry
        };
        self.len.set(self.len.get() + 1);
        // SAFETY: both branches yield an entry inside a live block.
        Ok(unsafe { NonNull::new_unchecked(entry) })
    }

    /// Allocates the next block: the first holds at least `min_entries`
    /// entries rounded up to a power-of-two byte size (at least a cache
    /// line), every further one has twice the bytes of the previous one.
    #[cold]
    #[inline(never)]
    fn grow(&self, el: EntryLayout) -> Result<(), AllocError> {
        let last = self.with_blocks(|b| b.last().map(|b| b.layout.size()));
        let bytes = match last {
            Some(prev) => prev.checked_mul(2).ok_or(AllocError::CapacityOverflow)?,
            None => self
                .min_entries
                .get()
                .checked_mul(el.size)
                .and_then(usize::checked_next_power_of_two)
                .ok_or(AllocError::CapacityOverflow)?
                .max(MIN_BLOCK_BYTES),
        };
        // Align so that blocks cover whole cache lines, pages or huge pages.
        let align = if bytes >= HUGE_PAGE {
            HUGE_PAGE
        } else if bytes >= PAGE {
            PAGE
        } else {
            MIN_BLOCK_BYTES
        }
        .max(el.align);
        let layout =
            Layout::from_size_align(bytes, align).map_err(|_| AllocError::CapacityOverflow)?;
        // `bytes >= MIN_BLOCK_BYTES > 0`, as `try_allocate` asserts.
        let start = page::raw::try_allocate(layout).ok_or(AllocError::OutOfMemory { layout })?;
        let capacity = bytes / el.size;
        // Checked in every build (once per block): the block's entries are
        // carved from it.
        assert!(capacity >= 1, "a block holds at least one entry");
        self.with_blocks(|b| {
            b.push(HotBlock {
                start,
                layout,
                capacity,
            })
        });
        self.bump.set(start.as_ptr());
        // SAFETY: `capacity * el.size <= bytes`, so this stays in the block.
        self.end
            .set(unsafe { start.as_ptr().add(capacity * el.size) });
        Ok(())
    }

    /// Puts `entry` on the free list and counts it as no longer live.
    ///
    /// # Safety
    /// `entry` is a live entry of this pool whose state word the caller has
    /// already set to `FREE`, whose payload is dead (dropped, moved out or
    /// never initialized), and to which no reference exists.
    #[inline]
    pub(crate) unsafe fn release(&self, entry: NonNull<u8>, el: EntryLayout) {
        // SAFETY: per the contract the payload is dead; the link slot is
        // inside the entry and pointer-aligned (`EntryLayout` invariant).
        unsafe {
            entry
                .as_ptr()
                .add(el.link)
                .cast::<*mut u8>()
                .write(self.free.get());
        }
        self.free.set(entry.as_ptr());
        self.len.set(self.len.get() - 1);
    }

    /// Whether `addr` is the start of an entry this pool has handed out at
    /// least once (live or free). Walks the block list: `O(blocks)`.
    pub(crate) fn contains(&self, addr: usize, el: EntryLayout) -> bool {
        let bump = self.bump.get().addr();
        self.with_blocks(|blocks| {
            let n = blocks.len();
            blocks.iter().enumerate().any(|(i, b)| {
                let start = b.start.as_ptr().addr();
                let used_end = if i + 1 == n {
                    bump
                } else {
                    start + b.capacity * el.size
                };
                (start..used_end).contains(&addr) && (addr - start).is_multiple_of(el.size)
            })
        })
    }

    /// Gives up every block to the graveyard; the pool is empty afterwards.
    pub(crate) fn leak(&self) {
        let blocks = self.with_blocks(core::mem::take);
        bury(blocks);
        self.free.set(ptr::null_mut());
        self.bump.set(ptr::null_mut());
        self.end.set(ptr::null_mut());
        self.len.set(0);
    }
}

impl Drop for RawPool {
    fn drop(&mut self) {
        let live = self.len.get();
        if live == 0 {
            for b in self.blocks.get_mut().drain(..) {
                // SAFETY: allocated in `grow` (by `page::raw::try_allocate`)
                // with exactly this layout, and no entry of it is live, so no
                // slot can reach it any more.
                unsafe { page::raw::deallocate(b.start, b.layout) };
            }
            return;
        }
        // Contract 2: slots still point into the blocks. Leak them first so
        // those slots stay valid even if the panic below is caught.
        self.leak();
        if cfg!(debug_assertions) && !crate::platform::panicking() {
            panic!(
                "hot::Pool dropped with {live} live slot(s); its memory was leaked \
                 (free every slot first, or call Pool::leak)"
            );
        }
    }
}

impl core::fmt::Debug for RawPool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.with_blocks(|b| {
            f.debug_struct("RawPool")
                .field("len", &self.len.get())
                .field("blocks", &b.len())
                .field("min_entries", &self.min_entries.get())
                .finish_non_exhaustive()
        })
    }
}

// Memory maps (`crate::memory_map`).
impl RawPool {
    /// Adds to `map` a block per block of entries: each entry's state word
    /// as metadata, then its value (`value` bytes, live, and the entry's
    /// padding) or, for an entry on the free list or never handed out,
    /// free room; the block's end past the last whole entry is padding.
    ///
    /// Only the free list is read: the state words of entries in use may
    /// be written by their slots on another thread meanwhile, so they are
    /// never read here.
    pub(crate) fn map_into(
        &self,
        el: EntryLayout,
        value: usize,
        map: &mut crate::memory_map::MemoryMap,
    ) {
        use crate::memory_map::{Block, SpanKind};
        let mut free = Vec::new();
        let mut entry = self.free.get();
        while !entry.is_null() {
            free.push(entry.addr());
            // SAFETY: entries on the free list are valid entries of our
            // blocks with an initialized link at `el.link`, written only by
            // this pool (as in `alloc`).
            entry = unsafe { entry.add(el.link).cast::<*mut u8>().read() };
        }
        free.sort_unstable();
        let (bump, end) = (self.bump.get().addr(), self.end.get().addr());
        self.with_blocks(|blocks| {
            for (i, b) in blocks.iter().enumerate() {
                let start = b.start.addr().get();
                let whole = start + b.capacity * el.size;
                // Entries from `bump` on, in the newest block, were never
                // handed out.
                let carved = if start <= bump && bump <= end && end == whole {
                    (bump - start) / el.size
                } else {
                    b.capacity
                };
                let mut block = Block::new(::alloc::format!("block {i}"), start);
                for e in 0..carved {
                    let at = block.len();
                    if free.binary_search(&(start + e * el.size)).is_ok() {
                        block.push(SpanKind::Metadata, size_of::<usize>());
                        block.push_to(SpanKind::Padding, at + el.link);
                        block.push_to(SpanKind::Free, at + el.size);
                    } else {
                        block.push(SpanKind::Metadata, size_of::<usize>());
                        block.push_to(SpanKind::Padding, at + el.link);
                        block.push(SpanKind::Live, value);
                        block.push_to(SpanKind::Padding, at + el.size);
                    }
                }
                block
                    .push(SpanKind::Free, (b.capacity - carved) * el.size)
                    .push_to(SpanKind::Padding, b.layout.size());
                map.push(block);
            }
        });
    }
}
