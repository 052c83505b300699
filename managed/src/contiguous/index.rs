//! The non-generic bookkeeping of a [`ContiguousUniformPool`]: which dense
//! position each proxy's object is at, and which proxy each position
//! belongs to.
//!
//! Kept free of `T` so it is compiled once, whatever the pools' types.
//!
//! [`ContiguousUniformPool`]: super::ContiguousUniformPool

/// Marks the end of the free-slot list.
pub(crate) const NONE: u32 = u32::MAX;

/// Slot table and back-indices of a pool holding `back.len()` objects.
///
/// A *slot* is the stable cell a proxy names: it never moves while the
/// proxy lives. A *position* is where the object is in the dense storage;
/// it changes whenever the pool fills a hole.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// For a slot held by a proxy (or by a pending removal): the position of
    /// its object, `< back.len()`. For a free slot: the next free slot, or
    /// [`NONE`]. Invariant: `slots[back[i]] == i` for every position `i`.
    pub(crate) slots: Vec<u32>,
    /// The slot of the object at each position; `back.len()` equals the
    /// number of objects stored (live plus pending removal), and each slot
    /// appears at most once.
    pub(crate) back: Vec<u32>,
    /// Head of the free-slot list threaded through `slots`, or [`NONE`].
    pub(crate) free: u32,
    /// Slots whose proxy was dropped while the pool was borrowed. Their
    /// objects stay in place (and keep their slot) until the borrow ends.
    /// Each entry is a distinct, used slot.
    pub(crate) pending: Vec<u32>,
}

impl Index {
    /// An empty index with room for `capacity` objects.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: Vec::with_capacity(capacity),
            back: Vec::with_capacity(capacity),
            free: NONE,
            pending: Vec::new(),
        }
    }

    /// Objects stored, live or pending removal.
    #[inline]
    pub(crate) fn stored(&self) -> usize {
        self.back.len()
    }

    /// Objects whose proxy (or owner) is still alive.
    #[inline]
    pub(crate) fn live(&self) -> usize {
        self.back.len() - self.pending.len()
    }

    /// Position of the object of a used `slot`.
    ///
    /// # Safety
    ///
    /// `slot` must be used (held by a live proxy or a pending removal).
    #[inline]
    pub(crate) unsafe fn position(&self, slot: u32) -> usize {
        debug_assert!((slot as usize) < self.slots.len());
        // SAFETY: a used slot is in bounds (caller contract).
        let position = unsafe { *self.slots.get_unchecked(slot as usize) } as usize;
        debug_assert!(position < self.back.len() && self.back[position] == slot);
        position
    }

    /// Reserves room for one more object, so [`insert`](Self::insert)
    /// cannot fail afterwards.
    ///
    /// # Panics
    ///
    /// When the pool would hold `u32::MAX` objects or slots.
    pub(crate) fn reserve_one(&mut self) {
        assert!(
            self.back.len() < NONE as usize - 1
                && (self.free != NONE || self.slots.len() < NONE as usize - 1),
            "ContiguousUniformPool: capacity overflow (at most {} objects)",
            NONE - 1
        );
        self.back.reserve(1);
        if self.free == NONE {
            self.slots.reserve(1);
        }
    }

    /// Records a new object at position `back.len()` and returns its slot.
    /// Call [`reserve_one`](Self::reserve_one) first.
    #[inline]
    pub(crate) fn insert(&mut self) -> u32 {
        let position = self.back.len() as u32;
        let slot = if self.free == NONE {
            let slot = self.slots.len() as u32;
            self.slots.push(position);
            slot
        } else {
            let slot = self.free;
            self.free = self.slots[slot as usize];
            self.slots[slot as usize] = position;
            slot
        };
        self.back.push(slot);
        slot
    }

    /// Forgets the object of a used `slot`, whose position is returned: the
    /// caller swap-removes the value at that position, exactly as `back`
    /// was. The object that was last now sits at that position, and its
    /// slot says so. The slot becomes free.
    ///
    /// # Safety
    ///
    /// `slot` must be used, and not also listed in `pending`.
    #[inline]
    pub(crate) unsafe fn remove(&mut self, slot: u32) -> usize {
        // SAFETY: `slot` is used (caller contract).
        let position = unsafe { self.position(slot) };
        self.back.swap_remove(position);
        if let Some(&moved) = self.back.get(position) {
            self.slots[moved as usize] = position as u32;
        }
        self.slots[slot as usize] = self.free;
        self.free = slot;
        position
    }

    /// Forgets every object and slot.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.back.clear();
        self.pending.clear();
        self.free = NONE;
    }

    /// Releases unused capacity, dropping free slots above the highest used
    /// one. Only valid when nothing is pending.
    pub(crate) fn shrink_to_fit(&mut self) {
        debug_assert!(self.pending.is_empty());
        let top = self.back.iter().map(|&s| s as usize + 1).max().unwrap_or(0);
        if top < self.slots.len() {
            self.slots.truncate(top);
            // Rebuild the free list over the slots that remain unused.
            let mut used = vec![false; top];
            for &slot in &self.back {
                used[slot as usize] = true;
            }
            self.free = NONE;
            for (slot, used) in used.iter().enumerate().rev() {
                if !used {
                    self.slots[slot] = self.free;
                    self.free = slot as u32;
                }
            }
        }
        self.slots.shrink_to_fit();
        self.back.shrink_to_fit();
        self.pending.shrink_to_fit();
    }

    /// Bytes of bookkeeping reserved.
    pub(crate) fn reserved_bytes(&self) -> usize {
        (self.slots.capacity() + self.back.capacity() + self.pending.capacity()) * size_of::<u32>()
    }
}
