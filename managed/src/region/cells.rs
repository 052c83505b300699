//! Forwarding cells: dense slots holding an object's current address, so
//! that `Forward`s and single-item tokens survive compaction (the compactor
//! maps every cell in use through its forwarding formula).
//!
//! The table lives in the region's `Core`, which outlives the arena while
//! tokens are outstanding (a token may be dropped after its arena).

use core::cell::{Cell, UnsafeCell};

/// The drop glue of a shared object.
pub(crate) type DropFn = unsafe fn(*mut u8);

/// `Slot::next` of a cell in use.
const IN_USE: u32 = u32::MAX;

/// One forwarding cell.
pub(crate) struct Slot {
    /// Untagged address of the object this cell tracks (when in use).
    pub(crate) addr: Cell<*mut u8>,
    /// Incremented each time the cell is released; a `Forward` remembers
    /// the generation it was made in, so a reused cell never matches. A
    /// cell whose generation reached `u32::MAX` is retired, never reused.
    pub(crate) generation: Cell<u32>,
    /// `IN_USE`, or (when free) the index + 1 of the next free cell (0 ends
    /// the list).
    next: Cell<u32>,
}

/// The cells of one region.
pub(crate) struct CellTable {
    /// The cells. Invariant: indices handed out are below `len`, and the
    /// vector never shrinks. It may reallocate (in `acquire`), so no
    /// reference into it is held across a call that can acquire.
    slots: UnsafeCell<Vec<Slot>>,
    /// Per cell, the drop glue of the shared object it tracks (the arena
    /// drops those), or `None` (a token's cell, or free).
    drops: UnsafeCell<Vec<Option<DropFn>>>,
    /// Index + 1 of the first free cell, or 0.
    free_head: Cell<u32>,
}

impl CellTable {
    /// An empty table.
    pub(crate) fn new() -> Self {
        CellTable {
            slots: UnsafeCell::new(Vec::new()),
            drops: UnsafeCell::new(Vec::new()),
            free_head: Cell::new(0),
        }
    }

    /// The slot at `index`.
    #[inline]
    pub(crate) fn slot(&self, index: u32) -> &Slot {
        // SAFETY: the vector is only mutated in `acquire` (a push), which
        // holds no reference across user code, so this shared access does
        // not overlap a mutation; callers pass indices handed out by
        // `acquire`, below the length.
        unsafe {
            let slots = &*self.slots.get();
            debug_assert!((index as usize) < slots.len());
            slots.get_unchecked(index as usize)
        }
    }

    /// Takes a free cell, sets it to `addr` (and the drop glue of a shared
    /// object), and returns its index and generation.
    pub(crate) fn acquire(&self, addr: *mut u8, drop: Option<DropFn>) -> (u32, u32) {
        // SAFETY: no reference into either vector is live (see `slots`).
        let (slots, drops) = unsafe { (&mut *self.slots.get(), &mut *self.drops.get()) };
        let index = match self.free_head.get().checked_sub(1) {
            Some(i) => {
                self.free_head.set(slots[i as usize].next.get());
                i
            }
            None => {
                let i = u32::try_from(slots.len())
                    .ok()
                    .filter(|&i| i < IN_USE)
                    .expect("too many forwarding cells");
                slots.push(Slot {
                    addr: Cell::new(core::ptr::null_mut()),
                    generation: Cell::new(0),
                    next: Cell::new(IN_USE),
                });
                drops.push(None);
                i
            }
        };
        let slot = &slots[index as usize];
        slot.addr.set(addr);
        slot.next.set(IN_USE);
        drops[index as usize] = drop;
        (index, slot.generation.get())
    }

    /// Returns the cell at `index` to the free list (unless its generation
    /// is exhausted), invalidating the `Forward`s made from it.
    pub(crate) fn release(&self, index: u32) {
        let slot = self.slot(index);
        debug_assert_eq!(slot.next.get(), IN_USE);
        let generation = slot.generation.get() + 1;
        slot.generation.set(generation);
        slot.addr.set(core::ptr::null_mut());
        // SAFETY: no reference into `drops` is live.
        unsafe { (&mut *self.drops.get())[index as usize] = None };
        if generation == u32::MAX {
            // Retired: a `Forward` of any earlier generation never matches,
            // and no new one is made.
            slot.next.set(0);
        } else {
            slot.next.set(self.free_head.get());
            self.free_head.set(index + 1);
        }
    }

    /// Calls `f` on every cell in use.
    pub(crate) fn for_each_in_use(&self, mut f: impl FnMut(&Slot)) {
        // SAFETY: `f` is crate code that does not acquire cells.
        for slot in unsafe { &*self.slots.get() } {
            if slot.next.get() == IN_USE {
                f(slot);
            }
        }
    }

    /// Takes the drop glue and address of the shared object of the first
    /// cell at or after `from` that has one, releasing the cell; returns
    /// them with the index to resume from.
    pub(crate) fn take_shared(&self, from: usize) -> Option<(usize, DropFn, *mut u8)> {
        // SAFETY: short accesses, no reference kept across user code.
        let len = unsafe { (*self.drops.get()).len() };
        for i in from..len {
            // SAFETY: as above; `i < len`.
            let drop = unsafe { (&*self.drops.get())[i] };
            if let Some(drop) = drop {
                let addr = self.slot(i as u32).addr.get();
                self.release(i as u32);
                return Some((i + 1, drop, addr));
            }
        }
        None
    }
}
