//! The raw core of [`UniformPageDeque`]: the deque type over a
//! [`PageList`] of `T`s, its slot arithmetic, pushes and pops, and the
//! cursor its iterators share. Every pointer into a page is made and
//! dereferenced here; the invariants are written on the deque's fields. The
//! safe trait impls, the owning iterator and the tests are in
//! [`crate::uniform::deque`](super::super::deque).

use core::alloc::Layout;
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{self, size_of};
use core::ops::Range;
use core::ptr::{self, NonNull};

use crate::SpaceStats;
use crate::page::{PageList, PageSize};

/// A double-ended queue whose elements live on pages of a [`PageList`].
///
/// Elements never move once pushed (pages are added and removed at the
/// ends, never reallocated), every page may carry a header `H`
/// ([`header_for`](Self::header_for) finds an element's page header by
/// masking its address), and popped-empty pages go back to the allocator.
///
/// ```
/// use managed::prelude::*;
///
/// let mut deque = UniformPageDeque::new();
/// for i in 0..1000u64 {
///     deque.push_back(i);
/// }
/// deque.push_front(u64::MAX);
/// assert_eq!(deque.len(), 1001);
/// assert_eq!(deque[1], 0);
/// assert_eq!(deque.iter().rev().next(), Some(&999));
/// assert_eq!(deque.pop_front(), Some(u64::MAX));
/// // 1000 `u64`s on one 16 KiB page of 2048 slots, plus the page emptied
/// // by the pop, kept as capacity for the next push.
/// let stats = deque.stats();
/// assert_eq!(stats.live_bytes, 1000 * 8);
/// assert!(stats.reserved_bytes <= 2 * 16 * 1024);
/// ```
// `repr(C)` with this field order on purpose: each fast path updates two
// counters (`pop_front`: `head` and `len`; `push_back`: `tail` and `len`). When
// they were adjacent, LLVM merged the two updates into one 16-byte vector
// store, and the next operation's 8-byte loads of the same fields missed
// store-to-load forwarding: push/pop ran 3x slower than `VecDeque`. No two
// counters a fast path updates together are neighbours here.
#[repr(C)]
pub struct UniformPageDeque<T, H = ()> {
    /// Offset (in elements) of the first element in the front page.
    head: usize,
    /// Payload start of the front page, `pages.data(0)`; dangling when there
    /// are no pages or `T` is zero-sized. A cache of the page list (kept in
    /// step by [`Self::sync_ends`] after every page added or removed) so the
    /// push/pop fast paths do not index the page order.
    front: NonNull<T>,
    /// Number of elements.
    len: usize,
    /// Payload start of the back page, `pages.data(pages.len() - 1)`;
    /// dangling as for `front`.
    back: NonNull<T>,
    /// Offset (in elements) one past the last element in the back page.
    tail: usize,
    /// Elements per page.
    cap: usize,
    /// `cap` as a divisor by multiplication: [`Self::locate`]'s split of an
    /// index into page and offset, which a random access pays each time.
    ///
    /// Invariant: `cap_div == Divisor::new(cap)`.
    cap_div: Divisor,
    /// The pages, front to back.
    ///
    /// Invariants (with `cap = self.cap`):
    /// - no pages ⇒ `len == 0`;
    /// - one page ⇒ `head <= tail <= cap` and its elements `head..tail` are
    ///   initialized;
    /// - `n >= 2` pages ⇒ `head < cap`, `0 < tail <= cap`, the front page
    ///   holds `head..cap`, middle pages `0..cap`, the back page `0..tail`;
    /// - `len` is the number of initialized elements so described.
    ///
    /// Zero-sized `T`s use no pages at all.
    pages: PageList<H>,
    /// The deque owns `T`s.
    _values: PhantomData<T>,
}

// SAFETY: the deque owns its elements and headers; moving it moves them.
unsafe impl<T: Send, H: Send> Send for UniformPageDeque<T, H> {}
// SAFETY: `&UniformPageDeque` only hands out `&T` and `&H`.
unsafe impl<T: Sync, H: Sync> Sync for UniformPageDeque<T, H> {}

impl<T> UniformPageDeque<T> {
    /// An empty deque with [`Self::DEFAULT_PAGE_SIZE`] pages and no page
    /// headers. Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::with_page_size(Self::DEFAULT_PAGE_SIZE)
    }

    /// An empty deque with [`Self::DEFAULT_PAGE_SIZE`] pages and room for
    /// `capacity` elements: enough pages for them (by the geometry of
    /// [`with_page_size`](Self::with_page_size)) are allocated up front and
    /// kept idle, so the first `capacity` pushes at one end allocate
    /// nothing. Zero-sized `T`s need no pages.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut deque = UniformPageDeque::with_capacity(5000);
    /// let reserved = deque.stats().reserved_bytes;
    /// assert!(reserved >= 5000 * 8);
    /// deque.extend(0..5000u64);
    /// assert_eq!(deque.stats().reserved_bytes, reserved);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let mut deque = Self::new();
        if !Self::IS_ZST && capacity > 0 {
            deque.pages.reserve(capacity.div_ceil(deque.cap));
        }
        deque
    }
}

impl<T, H> UniformPageDeque<T, H> {
    const IS_ZST: bool = size_of::<T>() == 0;

    /// The page size of [`new`](UniformPageDeque::new) and `default`:
    /// 16 KiB. Pages come in chunks of adjacent pages (up to 1 MiB), so a
    /// walk streams across most page ends; a chunk boundary and each page's
    /// bookkeeping still cost a little, less with larger pages (`docs/notes/uniform.md`).
    /// Use [`with_page_size`](Self::with_page_size) for smaller pages when
    /// many small deques matter more than walks.
    pub const DEFAULT_PAGE_SIZE: PageSize = match PageSize::new(16 * 1024) {
        Some(size) => size,
        None => panic!("16 KiB is a valid page size"),
    };

    /// An empty deque with pages of at least `size` bytes (more when one `T`
    /// and the header do not fit: the large-element path). Allocates
    /// nothing.
    #[must_use]
    pub fn with_page_size(size: PageSize) -> Self {
        let (pages, geometry) = PageList::for_elements(size, Layout::new::<T>());
        Self {
            pages,
            cap: geometry.capacity,
            cap_div: Divisor::new(geometry.capacity),
            head: 0,
            tail: 0,
            len: 0,
            front: NonNull::dangling(),
            back: NonNull::dangling(),
            _values: PhantomData,
        }
    }
}

impl<T, H: Default> UniformPageDeque<T, H> {
    /// Appends an element. Allocates a page every `page_capacity()` pushes.
    #[inline]
    pub fn push_back(&mut self, value: T) {
        if Self::IS_ZST {
            self.push_zst(value);
            return;
        }
        if self.tail == self.cap || self.pages.is_empty() {
            self.make_room_back();
        }
        // Redundant: a full back page was just replaced, and the invariant
        // on `back`.
        debug_assert!(self.tail < self.cap);
        debug_assert!(self.back == self.pages.data(self.pages.len() - 1).cast());
        // SAFETY: `tail < cap` now and `back` is the back page's payload, so
        // the slot is in the page; it is outside the live range, so writing
        // does not overwrite a live element.
        unsafe { self.back.as_ptr().add(self.tail).write(value) };
        self.tail += 1;
        // No overflow: every element occupies at least one byte of a page.
        self.len += 1;
    }

    /// Pushes a zero-sized value at either end: only the count changes
    /// (and can overflow, since no memory bounds it).
    fn push_zst(&mut self, value: T) {
        mem::forget(value);
        self.len = self
            .len
            .checked_add(1)
            .expect("deque length overflows usize");
    }

    /// Makes `tail < cap` on a back page: a first page, the only (empty)
    /// page restarted, or a new page.
    #[cold]
    #[inline(never)]
    fn make_room_back(&mut self) {
        if self.pages.is_empty() {
            self.pages.push_back(H::default());
            self.head = 0;
            self.tail = 0;
        } else if self.len == 0 {
            // One empty page: restart it from its beginning.
            self.head = 0;
            self.tail = 0;
        } else {
            self.pages.push_back(H::default());
            self.tail = 0;
        }
        self.sync_ends();
    }

    /// Prepends an element.
    #[inline]
    pub fn push_front(&mut self, value: T) {
        if Self::IS_ZST {
            self.push_zst(value);
            return;
        }
        if self.head == 0 || self.pages.is_empty() {
            self.make_room_front();
        }
        self.head -= 1;
        // Redundant by the invariant on `front`.
        debug_assert!(self.front == self.pages.data(0).cast());
        // SAFETY: `front` is the front page's payload and the slot `head`
        // (just decremented, so `< cap`) is below the live range of that
        // page, so it holds no live element.
        unsafe { self.front.as_ptr().add(self.head).write(value) };
        // No overflow: every element occupies at least one byte of a page.
        self.len += 1;
    }

    /// Makes `head > 0` on a front page: a first page, the only (empty)
    /// page restarted from its end, or a new page.
    #[cold]
    #[inline(never)]
    fn make_room_front(&mut self) {
        if self.pages.is_empty() {
            self.pages.push_front(H::default());
            self.head = self.cap;
            self.tail = self.cap;
        } else if self.len == 0 {
            self.head = self.cap;
            self.tail = self.cap;
        } else {
            self.pages.push_front(H::default());
            self.head = self.cap;
        }
        self.sync_ends();
    }
}

impl<T, H> UniformPageDeque<T, H> {
    /// Removes and returns the last element.
    #[inline]
    pub fn pop_back(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        if Self::IS_ZST {
            // SAFETY: a zero-sized value is read from a dangling, aligned
            // pointer; one was pushed for every one popped.
            return Some(unsafe { ptr::read(NonNull::dangling().as_ptr()) });
        }
        self.tail -= 1;
        // Redundant by the invariant on `back`.
        debug_assert!(self.back == self.pages.data(self.pages.len() - 1).cast());
        // SAFETY: the element at `tail` of the back page (`back` is that
        // page's payload) was initialized and is now outside the live range,
        // so it is read exactly once.
        let value = unsafe { self.back.as_ptr().add(self.tail).read() };
        if self.tail == 0 {
            self.release_back_page();
        }
        Some(value)
    }

    /// Removes and returns the first element.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        if Self::IS_ZST {
            // SAFETY: a zero-sized value is read from a dangling, aligned
            // pointer; one was pushed for every one popped.
            return Some(unsafe { ptr::read(NonNull::dangling().as_ptr()) });
        }
        // Redundant by the invariants on `head` and `front` (re-synced
        // whenever a page is added or removed).
        debug_assert!(self.head < self.cap && self.front == self.pages.data(0).cast());
        // SAFETY: the deque was not empty, so the front page's slot `head`
        // (`front` is that page's payload, `head < cap`) is initialized; it
        // leaves the live range right below, so it is read exactly once.
        let value = unsafe { self.front.as_ptr().add(self.head).read() };
        self.head += 1;
        if self.head == self.cap {
            self.release_front_page();
        }
        Some(value)
    }

    /// The element at `index`, or `None` when out of bounds.
    #[inline]
    #[must_use]
    pub fn get(&self, index: usize) -> Option<&T> {
        if index >= self.len {
            return None;
        }
        let (page, offset) = self.locate(index);
        // SAFETY: `index < len`, so the slot holds an initialized element;
        // `&self` keeps it alive and unaliased by `&mut`.
        Some(unsafe { &*self.slot(page, offset) })
    }

    /// The element at `index` mutably, or `None` when out of bounds.
    #[inline]
    #[must_use]
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        if index >= self.len {
            return None;
        }
        let (page, offset) = self.locate(index);
        // SAFETY: as in `get`, with `&mut self` making it exclusive.
        Some(unsafe { &mut *self.slot(page, offset) })
    }

    /// The elements at `indices`, each exclusively (swapping two
    /// particles' velocities, moving a value from one element to another);
    /// `None` if an index is out of bounds or two are equal.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut deque: UniformPageDeque<u32> = (0..1000).collect();
    /// let [a, b] = deque.get_disjoint_mut([3, 997]).unwrap();
    /// core::mem::swap(a, b);
    /// assert_eq!((deque[3], deque[997]), (997, 3));
    /// assert!(deque.get_disjoint_mut([5, 5]).is_none());
    /// assert!(deque.get_disjoint_mut([5, 1000]).is_none());
    /// ```
    #[must_use]
    pub fn get_disjoint_mut<const N: usize>(&mut self, indices: [usize; N]) -> Option<[&mut T; N]> {
        for (i, &index) in indices.iter().enumerate() {
            if index >= self.len || indices[..i].contains(&index) {
                return None;
            }
        }
        Some(indices.map(|index| {
            let (page, offset) = self.locate(index);
            // SAFETY: 1. every index is below `len` (checked above), so its
            // slot holds an initialized element; 2. the indices are
            // pairwise distinct (checked above) and `locate` maps distinct
            // indices to distinct slots, so no two references overlap
            // (zero-sized elements occupy no memory); 3. `&mut self` keeps
            // every other access away for the references' lifetime.
            unsafe { &mut *self.slot(page, offset) }
        }))
    }

    /// The first element.
    #[must_use]
    pub fn front(&self) -> Option<&T> {
        self.get(0)
    }

    /// The first element, mutably.
    #[must_use]
    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.get_mut(0)
    }

    /// The last element.
    #[must_use]
    pub fn back(&self) -> Option<&T> {
        self.get(self.len.wrapping_sub(1))
    }

    /// The last element, mutably.
    #[must_use]
    pub fn back_mut(&mut self) -> Option<&mut T> {
        self.get_mut(self.len.wrapping_sub(1))
    }

    /// Number of elements.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the deque is empty.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every element, keeping one page for reuse.
    pub fn clear(&mut self) {
        self.truncate_front_to(0);
    }

    /// A front-to-back iterator over the elements.
    #[must_use]
    pub fn iter(&self) -> Iter<'_, T, H> {
        Iter {
            raw: DequeRawIter::new(self),
            _deque: PhantomData,
        }
    }

    /// A front-to-back iterator over the elements, mutably.
    #[must_use]
    pub fn iter_mut(&mut self) -> IterMut<'_, T, H> {
        IterMut {
            raw: DequeRawIter::new(self),
            _deque: PhantomData,
        }
    }

    /// Space statistics: `size_of::<T>()` per element against every page
    /// held (idle pages kept as capacity included).
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        let reserved = self.pages.stats().reserved_bytes;
        SpaceStats::new(self.len * size_of::<T>(), reserved)
    }

    /// Returns every page not holding elements to the allocator.
    pub fn shrink_to_fit(&mut self) {
        if self.len == 0 {
            while self.pages.pop_back().is_some() {}
            self.head = 0;
            self.tail = 0;
            self.sync_ends();
        }
        self.pages.shrink_to_fit();
    }

    /// The header of the page holding `elem`, or `None` when `elem` is not
    /// on a page of this deque. Only the address is used.
    #[must_use]
    pub fn header_for(&self, elem: *const T) -> Option<&H> {
        self.pages.header_for(elem)
    }

    /// The header of the page holding `elem`, mutably.
    #[must_use]
    pub fn header_for_mut(&mut self, elem: *const T) -> Option<&mut H> {
        self.pages.header_for_mut(elem)
    }

    /// The page headers, front to back.
    pub fn headers(&self) -> impl DoubleEndedIterator<Item = &H> + ExactSizeIterator + '_ {
        self.pages.iter()
    }

    /// The size of the deque's pages.
    #[must_use]
    pub fn page_size(&self) -> PageSize {
        self.pages.page_size()
    }

    /// Elements per page.
    #[must_use]
    pub fn page_capacity(&self) -> usize {
        self.cap
    }

    /// Re-reads the cached payload pointers of the end pages; called after
    /// every change to the page list.
    fn sync_ends(&mut self) {
        let n = self.pages.len();
        if Self::IS_ZST || n == 0 {
            self.front = NonNull::dangling();
            self.back = NonNull::dangling();
        } else {
            self.front = self.pages.data(0).cast();
            self.back = self.pages.data(n - 1).cast();
        }
    }

    /// Pointer to element slot `offset` of page `page`.
    #[inline]
    fn slot(&self, page: usize, offset: usize) -> *mut T {
        if Self::IS_ZST {
            return NonNull::dangling().as_ptr();
        }
        // Redundant: callers pass `locate`'s result or an end of the live
        // range, both below `cap` on a page in use.
        debug_assert!(page < self.pages.len() && offset < self.cap);
        // SAFETY: `offset < cap`, so the element lies inside the page's
        // payload (the geometry sized `cap` to fit).
        unsafe { self.pages.data(page).cast::<T>().as_ptr().add(offset) }
    }

    /// Page index and offset of the element at logical `index < len`.
    #[inline]
    fn locate(&self, index: usize) -> (usize, usize) {
        // Redundant: every caller checks `index < len` first, in every build.
        debug_assert!(index < self.len);
        if Self::IS_ZST {
            return (0, 0);
        }
        let at = self.head + index;
        // Both are set once, together (`new`): the divisor's own field
        // says it is `cap`'s, without rebuilding it on every lookup.
        debug_assert_eq!(self.cap_div.d, self.cap);
        self.cap_div.div_rem(at)
    }

    /// The front page was emptied by a pop: give it back unless it is the
    /// only page.
    #[cold]
    #[inline(never)]
    fn release_front_page(&mut self) {
        if self.pages.len() >= 2 {
            self.pages.pop_front();
            self.head = 0;
            self.sync_ends();
        }
    }

    /// The back page was emptied by a pop: give it back unless it is the
    /// only page.
    #[cold]
    #[inline(never)]
    fn release_back_page(&mut self) {
        if self.pages.len() >= 2 {
            self.pages.pop_back();
            self.tail = self.cap;
            self.sync_ends();
        }
    }

    /// Drops elements from the front until `keep` are left, even if a
    /// destructor panics (the rest are still dropped while unwinding).
    fn truncate_front_to(&mut self, keep: usize) {
        let mut deque = scopeguard::guard(self, |deque| {
            while deque.len > keep {
                drop(deque.pop_front());
            }
        });
        while deque.len > keep {
            drop(deque.pop_front());
        }
    }

    /// The live range of page `page` as a slice pointer.
    fn page_range(&self, page: usize) -> (*mut T, usize) {
        let last = self.pages.len() - 1;
        let start = if page == 0 { self.head } else { 0 };
        let end = if page == last { self.tail } else { self.cap };
        (self.slot(page, 0).wrapping_add(start), end - start)
    }
}

impl<T, H> Drop for UniformPageDeque<T, H> {
    fn drop(&mut self) {
        if mem::needs_drop::<T>() {
            self.truncate_front_to(0);
        }
        // Pages and headers are dropped with `self.pages`.
    }
}

/// The shared cursor of [`Iter`] and [`IterMut`]: the live range of the
/// page being read from each end, and the pages not yet opened.
struct DequeRawIter<T, H> {
    /// The deque's pages (borrowed for the iterator's lifetime by the
    /// wrapper's `PhantomData`).
    deque: NonNull<UniformPageDeque<T, H>>,
    /// Unread part of the page opened at the front: `(next, remaining)`.
    front: (*mut T, usize),
    /// Unread part of the page opened at the back: `(end, remaining)`.
    back: (*mut T, usize),
    /// Pages not yet opened by either end.
    pages: Range<usize>,
    /// Elements not yet yielded; for zero-sized `T` the only count.
    remaining: usize,
}

impl<T, H> DequeRawIter<T, H> {
    fn new(deque: &UniformPageDeque<T, H>) -> Self {
        let pages = if UniformPageDeque::<T, H>::IS_ZST {
            0..0
        } else {
            0..deque.pages.len()
        };
        Self {
            deque: NonNull::from(deque),
            front: (ptr::null_mut(), 0),
            back: (ptr::null_mut(), 0),
            pages,
            remaining: deque.len,
        }
    }

    #[inline]
    fn next(&mut self) -> Option<*mut T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if UniformPageDeque::<T, H>::IS_ZST {
            return Some(NonNull::dangling().as_ptr());
        }
        if self.front.1 == 0 {
            match self.pages.next() {
                Some(page) => {
                    // SAFETY: the wrapper borrows the deque for the
                    // iterator's lifetime, so the pointer is valid.
                    self.front = unsafe { self.deque.as_ref() }.page_range(page);
                }
                None => {
                    // Only the back page's unread part is left.
                    let first = self.back.0.wrapping_sub(self.back.1);
                    self.back.1 -= 1;
                    return Some(first);
                }
            }
        }
        let item = self.front.0;
        self.front = (self.front.0.wrapping_add(1), self.front.1 - 1);
        Some(item)
    }

    #[inline]
    fn next_back(&mut self) -> Option<*mut T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if UniformPageDeque::<T, H>::IS_ZST {
            return Some(NonNull::dangling().as_ptr());
        }
        if self.back.1 == 0 {
            match self.pages.next_back() {
                Some(page) => {
                    // SAFETY: as in `next`.
                    let (start, len) = unsafe { self.deque.as_ref() }.page_range(page);
                    self.back = (start.wrapping_add(len), len);
                }
                None => {
                    // Only the front page's unread part is left.
                    self.front.1 -= 1;
                    return Some(self.front.0.wrapping_add(self.front.1));
                }
            }
        }
        self.back = (self.back.0.wrapping_sub(1), self.back.1 - 1);
        Some(self.back.0)
    }
}

/// Iterator over `&T`, front to back; see [`UniformPageDeque::iter`].
pub struct Iter<'a, T, H = ()> {
    raw: DequeRawIter<T, H>,
    _deque: PhantomData<&'a T>,
}

/// Iterator over `&mut T`, front to back; see
/// [`UniformPageDeque::iter_mut`].
pub struct IterMut<'a, T, H = ()> {
    raw: DequeRawIter<T, H>,
    _deque: PhantomData<&'a mut T>,
}

impl<'a, T, H> Iterator for Iter<'a, T, H> {
    type Item = &'a T;
    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        // SAFETY: the cursor only yields pointers to initialized elements
        // of the deque, which is borrowed shared for `'a`.
        self.raw.next().map(|p| unsafe { &*p })
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining, Some(self.raw.remaining))
    }
    #[inline]
    fn fold<B, F: FnMut(B, &'a T) -> B>(self, init: B, mut f: F) -> B {
        self.raw.fold_slices(init, |acc, start, len| {
            // SAFETY: `start..start + len` is a run of initialized elements
            // of one page (or `len` zero-sized values at a dangling, aligned
            // pointer), borrowed shared for `'a`.
            let run: &'a [T] = unsafe { core::slice::from_raw_parts(start, len) };
            run.iter().fold(acc, &mut f)
        })
    }
}

impl<'a, T, H> DoubleEndedIterator for Iter<'a, T, H> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a T> {
        // SAFETY: as in `next`.
        self.raw.next_back().map(|p| unsafe { &*p })
    }
}

impl<T, H> ExactSizeIterator for Iter<'_, T, H> {}
impl<T, H> FusedIterator for Iter<'_, T, H> {}

// SAFETY: an `Iter` only reads the deque it borrows shared (its page list
// and elements), like a `&UniformPageDeque`, which is `Send` and `Sync`
// when `T` and `H` are `Sync`.
unsafe impl<T: Sync, H: Sync> Send for Iter<'_, T, H> {}
// SAFETY: as for `Send`: `&Iter` reads no more than `Iter` does.
unsafe impl<T: Sync, H: Sync> Sync for Iter<'_, T, H> {}

impl<T, H> fmt::Debug for Iter<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &self.raw.remaining)
            .finish_non_exhaustive()
    }
}

impl<T, H> Clone for Iter<'_, T, H> {
    fn clone(&self) -> Self {
        Self {
            raw: self.raw.clone(),
            _deque: PhantomData,
        }
    }
}

impl<'a, T, H> Iterator for IterMut<'a, T, H> {
    type Item = &'a mut T;
    #[inline]
    fn next(&mut self) -> Option<&'a mut T> {
        // SAFETY: the deque is borrowed exclusively for `'a`, and the cursor
        // yields each initialized element at most once, so the `&mut`s are
        // disjoint.
        self.raw.next().map(|p| unsafe { &mut *p })
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining, Some(self.raw.remaining))
    }
    #[inline]
    fn fold<B, F: FnMut(B, &'a mut T) -> B>(self, init: B, mut f: F) -> B {
        self.raw.fold_slices(init, |acc, start, len| {
            // SAFETY: as in `Iter::fold`, with the deque borrowed exclusively
            // for `'a` and every run disjoint from the others.
            let run: &'a mut [T] = unsafe { core::slice::from_raw_parts_mut(start, len) };
            run.iter_mut().fold(acc, &mut f)
        })
    }
}

impl<'a, T, H> DoubleEndedIterator for IterMut<'a, T, H> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a mut T> {
        // SAFETY: as in `next`.
        self.raw.next_back().map(|p| unsafe { &mut *p })
    }
}

impl<T, H> ExactSizeIterator for IterMut<'_, T, H> {}
impl<T, H> FusedIterator for IterMut<'_, T, H> {}

// SAFETY: an `IterMut` borrows the deque exclusively: it reads the page
// list (`H: Sync`, as for a shared borrow) and hands out each element once
// as `&mut T`, which moves to another thread when `T: Send` (as
// `VecDeque`'s `IterMut`).
unsafe impl<T: Send, H: Sync> Send for IterMut<'_, T, H> {}
// SAFETY: `&IterMut` gives access to nothing (every method takes
// `&mut self`), so sharing it needs no more than `&T` would.
unsafe impl<T: Sync, H: Sync> Sync for IterMut<'_, T, H> {}

impl<T, H> fmt::Debug for IterMut<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("remaining", &self.raw.remaining)
            .finish_non_exhaustive()
    }
}

impl<'a, T, H> Iter<'a, T, H> {
    /// The elements not yet yielded, as one slice per page (the pieces a
    /// parallel walk hands to its threads).
    #[cfg(feature = "rayon")]
    pub(in crate::uniform) fn into_runs(self) -> alloc::vec::Vec<&'a [T]> {
        let mut runs = alloc::vec::Vec::with_capacity(self.raw.pages.len() + 2);
        self.raw.fold_slices((), |(), start, len| {
            // SAFETY: as in `fold`.
            runs.push(unsafe { core::slice::from_raw_parts(start, len) });
        });
        runs
    }
}

impl<'a, T, H> IterMut<'a, T, H> {
    /// The elements not yet yielded, as one disjoint slice per page (the
    /// pieces a parallel walk hands to its threads).
    #[cfg(feature = "rayon")]
    pub(in crate::uniform) fn into_runs(self) -> alloc::vec::Vec<&'a mut [T]> {
        let mut runs = alloc::vec::Vec::with_capacity(self.raw.pages.len() + 2);
        self.raw.fold_slices((), |(), start, len| {
            // SAFETY: as in `fold`: every run is disjoint from the others
            // and the deque is borrowed exclusively for `'a`.
            runs.push(unsafe { core::slice::from_raw_parts_mut(start, len) });
        });
        runs
    }
}

impl<T, H> DequeRawIter<T, H> {
    /// Folds over every remaining element pointer, one page slice at a
    /// time, so the per-element work is a slice walk.
    #[inline]
    fn fold_slices<B>(self, init: B, mut f: impl FnMut(B, *mut T, usize) -> B) -> B {
        if UniformPageDeque::<T, H>::IS_ZST {
            return f(init, NonNull::dangling().as_ptr(), self.remaining);
        }
        let mut acc = init;
        if self.front.1 > 0 {
            acc = f(acc, self.front.0, self.front.1);
        }
        // SAFETY: the wrapper borrows the deque for the iterator's lifetime.
        let deque = unsafe { self.deque.as_ref() };
        // Consecutive pages are mostly adjacent in memory (the page list
        // allocates them in chunks), so the hardware prefetcher streams
        // across page ends; a software prefetch of the next page's start
        // measured slower once the pages were adjacent.
        for page in self.pages {
            let (start, len) = deque.page_range(page);
            acc = f(acc, start, len);
        }
        if self.back.1 > 0 {
            acc = f(acc, self.back.0.wrapping_sub(self.back.1), self.back.1);
        }
        acc
    }
}

impl<T, H> Clone for DequeRawIter<T, H> {
    fn clone(&self) -> Self {
        Self {
            pages: self.pages.clone(),
            ..*self
        }
    }
}

// Memory maps (`crate::memory_map`).
impl<T, H> UniformPageDeque<T, H> {
    /// A map of the deque's memory: one block per page, front to back
    /// (the header `H`, padding up to the first slot, the slots, live
    /// between the ends and free outside them, and the page's unused end
    /// as padding), then the idle pages kept for the next pushes. Live
    /// bytes are [`stats`](Self::stats)' live bytes, and the blocks add up
    /// to its reserved bytes.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let mut deque: UniformPageDeque<u64> = (0..3000).collect();
    /// deque.pop_front();
    /// let map = deque.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), 2999 * 8);
    /// assert_eq!(map.reserved_bytes(), deque.stats().reserved_bytes);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        self.memory_map_titled("UniformPageDeque")
    }

    /// [`memory_map`](Self::memory_map) under the name of the container
    /// that wraps this deque.
    pub(crate) fn memory_map_titled(&self, name: &str) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{MemoryMap, SpanKind, type_name};
        let mut map = MemoryMap::new(alloc::format!("{name}<{}>", type_name::<T>()));
        let last = self.pages.len().saturating_sub(1);
        let size = size_of::<T>();
        self.pages.map_pages(&mut map, |page, _, block| {
            let start = if page == 0 { self.head } else { 0 };
            let end = if page == last { self.tail } else { self.cap };
            block
                .push(SpanKind::Free, start * size)
                .push(SpanKind::Live, (end - start) * size)
                .push(SpanKind::Free, (self.cap - end) * size);
        });
        map
    }
}

/// Division of indices by a fixed divisor with a multiply instead of a
/// `div` instruction (tens of cycles on the CPUs measured, against 3 or 4
/// for the multiply), after Lemire, Kaser and Kurz, "Faster remainder by
/// direct computation" (2019): for a divisor `d` in `2..2^32` and any
/// `n < 2^32`, with `c = ⌊(2^64 - 1) / d⌋ + 1`, `⌊n / d⌋ = ⌊c·n / 2^64⌋`.
/// Larger numerators, and the divisors the theorem leaves out (1, and 2^32
/// or more), take the plain division.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Divisor {
    /// The divisor; never zero.
    d: usize,
    /// `⌊(2^64 - 1) / d⌋ + 1` when `2 <= d < 2^32`, else 0 (divide
    /// plainly).
    c: u64,
}

impl Divisor {
    /// The divisor `d`.
    ///
    /// # Panics
    ///
    /// If `d` is zero (a page always holds an element).
    fn new(d: usize) -> Self {
        assert!(d > 0, "a page holds at least one element");
        let c = match u32::try_from(d) {
            Ok(small) if small >= 2 => u64::MAX / u64::from(small) + 1,
            _ => 0,
        };
        Divisor { d, c }
    }

    /// `(n / d, n % d)`.
    #[inline]
    fn div_rem(self, n: usize) -> (usize, usize) {
        match u32::try_from(n) {
            Ok(small) if self.c != 0 => {
                // The theorem above: exact for every 32-bit `n`.
                let q = ((u128::from(self.c) * u128::from(small)) >> 64) as usize;
                let r = n - q * self.d;
                debug_assert!(q == n / self.d && r == n % self.d);
                (q, r)
            }
            _ => (n / self.d, n % self.d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Divisor;

    /// The multiply-and-shift division against `/` and `%`: every
    /// numerator below 2^16 for the divisors below 300, the edges of the
    /// 32-bit range and random numerators for divisors across it, and the
    /// divisors the theorem leaves out.
    #[test]
    fn divisor_matches_plain_division() {
        let check = |d: usize, n: usize| {
            assert_eq!(Divisor::new(d).div_rem(n), (n / d, n % d), "{n} / {d}");
        };
        let (small_d, small_n) = if cfg!(miri) {
            (40, 300)
        } else {
            (300, 1 << 16)
        };
        for d in 1..small_d {
            for n in 0..small_n {
                check(d, n);
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let max = u64::from(u32::MAX);
        let edges = [0, 1, max - 1, max];
        for _ in 0..if cfg!(miri) { 50 } else { 20_000 } {
            let d = (next() % max).max(1) as usize;
            for n in edges.into_iter().chain([next() & max, next() % 1_000_000]) {
                check(d, n as usize);
                check(d, (n as usize).saturating_sub(d));
            }
        }
        for d in [max as usize - 1, max as usize] {
            for n in edges {
                check(d, n as usize);
            }
        }
        #[cfg(target_pointer_width = "64")]
        {
            check(1 << 32, usize::MAX);
            check(7, (1 << 32) + 5);
            check(3, usize::MAX);
        }
    }
}
