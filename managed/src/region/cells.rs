//! Forwarding cells: stable slots that always hold an object's current
//! address, so that tokens and `Forward`s survive compaction.
//!
//! The table is a heap object of its own, shared by the arena and its
//! outstanding tokens: a token may be dropped after its arena (nothing ties
//! a token's lifetime to the arena's). So the arena frees the table only
//! when no token is outstanding; otherwise it hands the table its region
//! memory, and the last token to go drops its value and frees both.

use core::cell::{Cell, UnsafeCell};
use core::ptr::NonNull;

use super::raw::RawRegion;

/// Slots per chunk (chunks never move, so slot addresses are stable).
const CHUNK: usize = 1024;

/// One forwarding cell.
pub(crate) struct Slot {
    /// Value address of the object this cell tracks (when in use); when
    /// free, the index + 1 of the next free cell (0 ends the list), as an
    /// address without provenance.
    pub(crate) addr: Cell<*mut u8>,
    /// Incremented each time the cell is released; a `Forward` remembers
    /// the generation it was made in, so a reused cell never matches.
    pub(crate) generation: Cell<u64>,
}

/// The cells of one arena.
pub(crate) struct CellTable {
    /// Chunks of `CHUNK` slots, allocated on demand and freed with the
    /// table. Invariant: slots `0..len` are initialized.
    chunks: UnsafeCell<Vec<NonNull<Slot>>>,
    /// Slots handed out so far (in use or free-listed).
    len: Cell<u32>,
    /// Index + 1 of the first released cell (reused first), or 0; the
    /// free cells are linked through their `addr`.
    free_head: Cell<u32>,
    /// Tokens created and neither redeemed nor dropped.
    tokens: Cell<usize>,
    /// Whether the arena was dropped (then `orphan` holds its region).
    arena_gone: Cell<bool>,
    /// The region of a dropped arena, kept for its outstanding tokens.
    orphan: UnsafeCell<Option<RawRegion>>,
}

impl CellTable {
    /// A new, empty table, owned through the returned pointer.
    pub(crate) fn create() -> NonNull<CellTable> {
        NonNull::from(Box::leak(Box::new(CellTable {
            chunks: UnsafeCell::new(Vec::new()),
            len: Cell::new(0),
            free_head: Cell::new(0),
            tokens: Cell::new(0),
            arena_gone: Cell::new(false),
            orphan: UnsafeCell::new(None),
        })))
    }

    /// The slot at `index`.
    #[inline]
    pub(crate) fn slot(&self, index: u32) -> &Slot {
        debug_assert!(index < self.len.get());
        let index = index as usize;
        // SAFETY: 1. the chunk vector is only mutated in `acquire`, which
        // holds no reference across user code, so this shared access does
        // not overlap a mutation; 2. `index < len` is initialized and its
        // chunk exists.
        unsafe {
            let chunks = &*self.chunks.get();
            let chunk = *chunks.get_unchecked(index / CHUNK);
            &*chunk.as_ptr().add(index % CHUNK)
        }
    }

    /// Takes a free cell, sets it to `addr`, and returns its index.
    pub(crate) fn acquire(&self, addr: NonNull<u8>) -> u32 {
        let head = self.free_head.get();
        let index = match head.checked_sub(1) {
            Some(i) => {
                self.free_head.set(self.slot(i).addr.get().addr() as u32);
                i
            }
            None => {
                let i = self.len.get();
                assert!(i < u32::MAX, "too many forwarding cells");
                if i as usize % CHUNK == 0 {
                    let chunk: Box<[Slot]> = (0..CHUNK)
                        .map(|_| Slot {
                            addr: Cell::new(core::ptr::null_mut()),
                            generation: Cell::new(0),
                        })
                        .collect();
                    let chunk = NonNull::from(Box::leak(chunk)).cast::<Slot>();
                    // SAFETY: no reference into `chunks` is live (see `slot`).
                    unsafe { (*self.chunks.get()).push(chunk) };
                }
                self.len.set(i + 1);
                i
            }
        };
        self.slot(index).addr.set(addr.as_ptr());
        index
    }

    /// Returns the cell at `index` to the free list, invalidating the
    /// `Forward`s made from it.
    pub(crate) fn release(&self, index: u32) {
        let slot = self.slot(index);
        slot.generation.set(slot.generation.get() + 1);
        slot.addr.set(core::ptr::without_provenance_mut(
            self.free_head.get() as usize
        ));
        self.free_head.set(index + 1);
    }

    /// The object address held by the cell at `index`.
    #[inline]
    pub(crate) fn addr(&self, index: u32) -> NonNull<u8> {
        let p = self.slot(index).addr.get();
        debug_assert!(!p.is_null());
        // SAFETY: a cell in use holds the (non-null) address of its object.
        unsafe { NonNull::new_unchecked(p) }
    }

    /// Points the cell at `index` to `addr`.
    #[inline]
    pub(crate) fn set_addr(&self, index: u32, addr: NonNull<u8>) {
        self.slot(index).addr.set(addr.as_ptr());
    }

    /// Counts one more outstanding token.
    #[inline]
    pub(crate) fn token_created(&self) {
        self.tokens.set(self.tokens.get() + 1);
    }

    /// Counts one token fewer; frees the table when it was the last user.
    ///
    /// # Safety
    ///
    /// `this` is a live table that counted this token, and the caller does
    /// not use `this` afterwards.
    pub(crate) unsafe fn token_gone(this: NonNull<CellTable>) {
        // SAFETY: live table (caller).
        let table = unsafe { this.as_ref() };
        let n = table.tokens.get() - 1;
        table.tokens.set(n);
        if n == 0 && table.arena_gone.get() {
            // SAFETY: the arena is gone and this was the last token: no one
            // else holds the table.
            unsafe { Self::free(this) };
        }
    }

    /// Called by the arena's drop: frees the table, or leaves it (and the
    /// region memory, which the outstanding tokens' objects live in) to the
    /// last outstanding token.
    ///
    /// # Safety
    ///
    /// `this` is the arena's live table and `region` its region; the arena
    /// does not use either afterwards.
    pub(crate) unsafe fn arena_gone(this: NonNull<CellTable>, region: RawRegion) {
        // SAFETY: live table (caller).
        let table = unsafe { this.as_ref() };
        table.arena_gone.set(true);
        if table.tokens.get() == 0 {
            drop(region);
            // SAFETY: no token holds the table, and the arena lets go.
            unsafe { Self::free(this) };
        } else {
            // SAFETY: nothing else accesses `orphan`.
            unsafe { *table.orphan.get() = Some(region) };
        }
    }

    /// Frees the table and its chunks.
    ///
    /// # Safety
    ///
    /// Nobody uses `this` afterwards; it came from `create`.
    unsafe fn free(this: NonNull<CellTable>) {
        // SAFETY: created by `Box::leak` in `create` (caller).
        let table = unsafe { Box::from_raw(this.as_ptr()) };
        for chunk in table.chunks.into_inner() {
            // SAFETY: each chunk was a leaked `Box<[Slot]>` of `CHUNK` slots.
            drop(unsafe {
                Box::from_raw(core::ptr::slice_from_raw_parts_mut(chunk.as_ptr(), CHUNK))
            });
        }
    }
}
