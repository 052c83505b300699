//! [`Heap`], its mutation token [`Mutation`], and its figures.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Index, IndexMut};

use crate::stats::SpaceStats;
use crate::visit::Managed;

use super::gc::{Gc, GcDyn};
use super::raw::{CollectStats, DEFAULT_CHUNK, Packing, RawHeap};
use super::rootable::Rootable;

/// Makes a type invariant in `'gc` (like `Cell<&'gc ()>`), without
/// affecting `Send`/`Sync`.
pub(crate) type Invariant<'gc> = PhantomData<fn(&'gc ()) -> &'gc ()>;

/// A moving, garbage-collected heap of objects that point at each other
/// through [`Gc`] handles, reachable from one root value of type
/// `R::Root<'gc>` ([`Rootable`]).
///
/// - [`mutate`](Self::mutate) runs a closure with the [`Mutation`] token
///   and the root, at a fresh brand `'gc`: inside it, allocate objects
///   ([`Gc::new`]), read and write them through handles, and link them
///   into the root's graph. Handles cannot leave the closure except
///   through the root.
/// - [`collect`](Self::collect) (between mutations) marks every object
///   reachable from the root, runs the destructors of the others, slides
///   the survivors together and rewrites every handle to them.
///   [`collect_if_due`](Self::collect_if_due) does so when enough was
///   allocated since the last collection ([`Pacing`]);
///   [`compact`](Self::compact) also packs the survivors into as few
///   chunks as they fit.
///
/// The heap is a list of chunks (64 KiB by default,
/// [`with_chunk_size`](Self::with_chunk_size)) and grows by a chunk when the
/// current ones are full; objects carry no header (8-byte granules, a mark
/// bitmap per chunk), objects bigger than a quarter of a chunk get a chunk
/// of their own and never move. An object whose type has a destructor
/// (`needs_drop`: a `String`, a `Vec`, a `Box` field) also takes a 16-byte
/// entry in the heap's destructor list, by which a collection finds the
/// unreachable ones to drop without reading the others; an object without
/// one costs its own bytes only.
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Node<'gc> {
///     name: String,
///     next: Option<Gc<'gc, Node<'gc>>>,
/// }
///
/// #[derive(Managed)]
/// struct Root<'gc> {
///     head: Option<Gc<'gc, Node<'gc>>>,
/// }
///
/// let mut heap: Heap<Root<'static>> = Heap::new(|_| Root { head: None });
/// heap.mutate(|mc, root| {
///     let b = Gc::new(mc, Node { name: "b".into(), next: None });
///     let a = Gc::new(mc, Node { name: "a".into(), next: Some(b) });
///     b.get_mut(mc).next = Some(a); // a cycle
///     Gc::new(mc, Node { name: "garbage".into(), next: None });
///     root.head = Some(a);
/// });
/// let stats = heap.collect();
/// assert_eq!((stats.live_objects, stats.dropped), (2, 1));
/// heap.mutate(|mc, root| {
///     let a = root.head.unwrap();
///     let b = mc[a].next.unwrap();
///     assert_eq!((mc[a].name.as_str(), mc[b].name.as_str()), ("a", "b"));
/// });
/// ```
pub struct Heap<R: Rootable> {
    /// The root, stored at the placeholder brand `'static` and only ever
    /// shown at a fresh brand (see `mutate`); declared first, so it is
    /// dropped before the objects.
    pub(in crate::heap) root: R::Root<'static>,
    /// The chunks and objects.
    pub(in crate::heap) raw: RawHeap,
}

/// When [`Heap::collect_if_due`] collects: once the bytes allocated since
/// the last collection reach `min_bytes`, and `growth` times the bytes that
/// survived it.
///
/// The default (256 KiB, growth 1.0) lets the heap grow to about twice its
/// live size between collections. A collection keeps as much spare room
/// as the cycle before it allocated, up to the same budget, so a program
/// in a steady state neither frees nor allocates chunks every cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Bytes to allocate before any collection is due.
    pub min_bytes: usize,
    /// Bytes to allocate before a collection is due, as a multiple of the
    /// bytes that survived the last one.
    pub growth: f64,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            min_bytes: 256 << 10,
            growth: 1.0,
        }
    }
}

/// Figures of a [`Heap`]'s memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HeapStats {
    /// The chunk size in bytes.
    pub chunk_size: usize,
    /// The bytes of objects one chunk holds (the chunk less its header,
    /// mark bitmap and prefix table), for objects aligned to at most 64
    /// bytes: after [`compact`](Heap::compact), such objects fill
    /// `used_bytes.div_ceil(chunk_area)` chunks at best.
    pub chunk_area: usize,
    /// Chunks held: in use, large and spare.
    pub chunks: usize,
    /// Bytes held from the global allocator: chunks and side tables.
    pub reserved_bytes: usize,
    /// Bytes of objects not reclaimed yet (live, or unreachable until the
    /// next collection), each rounded up to 8 bytes.
    pub used_bytes: usize,
    /// Bytes that survived the last collection.
    pub live_after_collection: usize,
    /// Bytes allocated since the last collection.
    pub allocated_since_collection: usize,
    /// Objects whose type has a destructor (the heap lists them to run it).
    pub objects_with_destructors: usize,
    /// Collections run.
    pub collections: u64,
    /// Objects held from outside the heap: those that
    /// [`Held`](super::Held), [`HeldWeak`](super::HeldWeak),
    /// [`HeldDyn`](super::HeldDyn) and [`HeldDynWeak`](super::HeldDynWeak)
    /// handles were made for, each counted once however many handles it
    /// has, until a collection finds all of its handles dropped (or, when
    /// only weak ones are left, the object dropped).
    pub held: usize,
}

impl fmt::Display for HeapStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes in use of {} reserved in {} chunk(s) of {} KiB; \
             {} bytes allocated since collection {} left {} live",
            self.used_bytes,
            self.reserved_bytes,
            self.chunks,
            self.chunk_size >> 10,
            self.allocated_since_collection,
            self.collections,
            self.live_after_collection
        )
    }
}

impl<R: Rootable> Heap<R> {
    /// A heap whose root `init` builds (it may allocate objects).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 7u32)]);
    /// assert_eq!(heap.detailed_stats().used_bytes, 8);
    /// ```
    pub fn new(init: impl for<'gc> FnOnce(&mut Mutation<'gc>) -> R::Root<'gc>) -> Self {
        Self::with_chunk_size(DEFAULT_CHUNK, init)
    }

    /// A heap with chunks of `chunk_size` bytes, whose root `init` builds.
    ///
    /// Small chunks suit small heaps; objects above a quarter of a chunk get
    /// a chunk of their own.
    ///
    /// # Panics
    ///
    /// Unless `chunk_size` is a power of two from 4 KiB to 1 GiB.
    #[track_caller]
    pub fn with_chunk_size(
        chunk_size: usize,
        init: impl for<'gc> FnOnce(&mut Mutation<'gc>) -> R::Root<'gc>,
    ) -> Self {
        Self::build(RawHeap::new(chunk_size), init)
    }

    /// Space statistics: bytes of objects not reclaimed yet (right after a
    /// collection: the live ones) and bytes reserved.
    ///
    /// Between collections the heap cannot tell garbage from live objects
    /// (a collection's trace does), so `live_bytes` counts every object
    /// allocated and not reclaimed yet, garbage included; right after
    /// [`collect`](Self::collect) it is the survivors' bytes.
    pub fn stats(&self) -> SpaceStats {
        let (reserved, used, _) = self.raw.usage();
        SpaceStats::new(used, reserved)
    }

    /// Detailed figures.
    pub fn detailed_stats(&self) -> HeapStats {
        let (reserved_bytes, used_bytes, chunks) = self.raw.usage();
        HeapStats {
            chunk_size: self.raw.chunk_size(),
            chunk_area: self.raw.chunk_area(),
            chunks,
            reserved_bytes,
            used_bytes,
            live_after_collection: self.raw.live_after(),
            allocated_since_collection: self.raw.allocated_since(),
            objects_with_destructors: self.raw.with_destructors(),
            collections: self.raw.collections(),
            held: self.raw.held.len(),
        }
    }

    /// Gives every spare chunk, the collector's work queue and the
    /// destructor list's unused room back to the global allocator (a
    /// collection first frees what is empty; each collection also halves
    /// the destructor list's room while it is three quarters unused).
    pub fn shrink_to_fit(&mut self) {
        self.raw.release_spare();
    }

    /// When [`collect_if_due`](Self::collect_if_due) collects.
    pub fn pacing(&self) -> Pacing {
        self.raw.pacing()
    }

    /// Sets when [`collect_if_due`](Self::collect_if_due) collects.
    pub fn set_pacing(&mut self, pacing: Pacing) {
        self.raw.set_pacing(pacing);
    }

    /// A map of the heap's memory: one block per chunk (normal chunks by
    /// alignment class, then large and spare ones), each with its header,
    /// its mark bitmap and prefix table as metadata, the objects, and the
    /// free room above them; then the destructor list and the collector's
    /// work queue. The blocks add up to [`stats`](Self::stats)' reserved
    /// bytes, and live bytes are its live bytes: between collections the
    /// heap cannot tell garbage from live objects (a collection's trace
    /// does), so every object not reclaimed yet is drawn live. Map the heap
    /// before and after [`collect`](Self::collect) to see what a
    /// collection reclaims.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Vec<Gc<'static, u64>>> = Heap::new(|_| Vec::new());
    /// heap.mutate(|mc, root| {
    ///     for i in 0..100 {
    ///         let object = Gc::new(mc, i);
    ///         if i % 4 == 0 {
    ///             root.push(object); // the rest is garbage
    ///         }
    ///     }
    /// });
    /// let before = heap.memory_map();
    /// assert_eq!(before.bytes(SpanKind::Live), 100 * 8);
    /// heap.collect();
    /// let after = heap.memory_map();
    /// assert_eq!(after.bytes(SpanKind::Live), 25 * 8);
    /// assert_eq!(after.reserved_bytes(), heap.stats().reserved_bytes);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        let mut map = crate::memory_map::MemoryMap::new(alloc::format!(
            "Heap ({} collections)",
            self.raw.collections()
        ));
        self.raw.map_into(&mut map);
        map
    }

    /// Runs `f` with the mutation token and the root, at a fresh brand
    /// `'gc`; returns what `f` returns (which cannot hold a handle).
    ///
    /// ```compile_fail
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    /// // A handle cannot leave its mutation: it would dangle after a collection.
    /// let escaped = heap.mutate(|mc, _| Gc::new(mc, 1u32));
    /// ```
    pub fn mutate<O>(
        &mut self,
        f: impl for<'gc> FnOnce(&mut Mutation<'gc>, &mut R::Root<'gc>) -> O,
    ) -> O {
        self.run_mutation(f)
    }

    /// Runs `f` with a shared token and the root shared, at a fresh brand
    /// `'gc`; returns what `f` returns (which cannot hold a handle).
    ///
    /// The reading twin of [`mutate`](Self::mutate), for code that only
    /// looks (rendering, queries, a `&self` method of the program's): it
    /// borrows the heap shared, so several reads may be nested. Objects
    /// are read (`mc[gc]`, `gc.get(mc)`, `mc[&held]`) and may be allocated
    /// and [held](Mutation::hold), but not written: that needs the
    /// exclusive token of a mutation.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Line {
    ///     text: String,
    /// }
    ///
    /// struct Editor {
    ///     heap: Heap<Vec<Gc<'static, Line>>>,
    /// }
    ///
    /// impl Editor {
    ///     /// Reads the document through `&self`.
    ///     fn render(&self) -> String {
    ///         self.heap.read(|mc, lines| {
    ///             lines.iter().map(|&l| mc[l].text.as_str()).collect::<Vec<_>>().join("\n")
    ///         })
    ///     }
    /// }
    ///
    /// let editor = Editor {
    ///     heap: Heap::new(|mc| vec![
    ///         Gc::new(mc, Line { text: "one".into() }),
    ///         Gc::new(mc, Line { text: "two".into() }),
    ///     ]),
    /// };
    /// assert_eq!(editor.render(), "one\ntwo");
    /// ```
    ///
    /// ```compile_fail
    /// use managed::prelude::*;
    ///
    /// let heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    /// // Writing needs `mutate`: the token of a read is shared.
    /// heap.read(|mc, root| mc[root[0]] += 1);
    /// ```
    pub fn read<O>(&self, f: impl for<'gc> FnOnce(&Mutation<'gc>, &R::Root<'gc>) -> O) -> O {
        self.run_read(f)
    }

    /// Collects: marks every object reachable from the root, runs the
    /// destructors of the unreachable ones (each exactly once), slides the
    /// survivors of each chunk together (a chunk under half live has its
    /// survivors copied out to a fresh chunk instead), rewrites every
    /// handle, and gives empty chunks back (keeping spare room as
    /// [`Pacing`] says). [`compact`](Self::compact) also packs chunks
    /// that are more than half live.
    ///
    /// If a destructor panics, the panic propagates once the heap is
    /// consistent again: the objects swept so far are dropped, the others
    /// are left to the next collection, which also does the compaction
    /// this one did not reach. The heap stays usable. The entries that
    /// the maps and sets in the heap drop because their weak handles'
    /// objects died are dropped at the end of a completed collection: a
    /// panic among their destructors propagates once the others are
    /// dropped.
    pub fn collect(&mut self) -> CollectStats {
        self.collect_from_root(Packing::Sparse)
    }

    /// Collects as [`collect`](Self::collect) does, and packs the
    /// survivors into as few chunks as they fit: for a heap about to
    /// stay at its size for a while (a document after a large deletion,
    /// before it is saved or idles), or before
    /// [`shrink_to_fit`](Self::shrink_to_fit) gives the emptied chunks
    /// back.
    ///
    /// `collect` copies out only the chunks under half live and slides the
    /// others' survivors together in place, so a heap whose chunks are all
    /// a little over half live stays that way through any number of
    /// collections (the free room is reused by later allocations, but not
    /// given back). `compact` copies out the least live chunks, as many as
    /// leave each alignment class in the fewest chunks that hold its
    /// survivors, whatever their density: it copies more than `collect`
    /// (up to every survivor), and takes the fresh chunks it fills before
    /// it frees the ones it empties.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Vec<Gc<'static, [u64; 4]>>> =
    ///     Heap::with_chunk_size(4096, |_| Vec::new());
    /// heap.mutate(|mc, kept| {
    ///     for i in 0..2000u64 {
    ///         let object = Gc::new(mc, [i; 4]);
    ///         if i % 20 < 11 {
    ///             kept.push(object); // 55% of every chunk survives
    ///         }
    ///     }
    /// });
    /// heap.collect();
    /// heap.shrink_to_fit();
    /// let loose = heap.detailed_stats().chunks;
    /// let stats = heap.compact();
    /// heap.shrink_to_fit();
    /// assert!(stats.chunks_evacuated > 0);
    /// assert!(heap.detailed_stats().chunks * 3 < loose * 2, "a third fewer chunks at least");
    /// heap.read(|mc, kept| {
    ///     assert_eq!(kept.len(), 1100);
    ///     assert!(kept.iter().enumerate().all(|(n, &o)| mc[o][0] / 20 == n as u64 / 11));
    /// });
    /// ```
    ///
    /// A panicking destructor is handled as in [`collect`](Self::collect).
    pub fn compact(&mut self) -> CollectStats {
        self.collect_from_root(Packing::Dense)
    }

    /// Collects if the bytes allocated since the last collection reach the
    /// heap's [`Pacing`]; returns the collection's figures if it ran.
    pub fn collect_if_due(&mut self) -> Option<CollectStats> {
        self.collection_due().then(|| self.collect())
    }

    /// Whether [`collect_if_due`](Self::collect_if_due) would collect now
    /// (as [`Mutation::collection_due`], from outside a mutation).
    #[must_use]
    pub fn collection_due(&self) -> bool {
        self.raw.due()
    }
}

impl<R: Rootable> fmt::Debug for Heap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heap")
            .field("stats", &self.detailed_stats())
            .finish_non_exhaustive()
    }
}

/// The token of one [`Heap::mutate`] call, branded `'gc`: allocates
/// objects and gives access to them through [`Gc`] handles.
///
/// Reading an object borrows the token shared (`gc.get(mc)`, `&mc[gc]`),
/// writing borrows it exclusively (`gc.get_mut(mc)`, `&mut mc[gc]`), so the
/// borrow checker rules out a written object being read or written through
/// another handle at the same time, whatever handles alias it.
///
/// Helper functions take `mc: &mut Mutation<'gc>` (or `&Mutation<'gc>` to
/// only read and allocate) and handles `Gc<'gc, T>` with the same `'gc`:
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Counter {
///     hits: u64,
/// }
///
/// fn hit<'gc>(mc: &mut Mutation<'gc>, counter: Gc<'gc, Counter>) -> u64 {
///     mc[counter].hits += 1;
///     mc[counter].hits
/// }
///
/// let mut heap: Heap<Option<Gc<'static, Counter>>> = Heap::new(|_| None);
/// heap.mutate(|mc, root| {
///     let c = *root.get_or_insert_with(|| Gc::new(mc, Counter { hits: 0 }));
///     hit(mc, c);
///     assert_eq!(hit(mc, c), 2);
/// });
/// ```
#[repr(transparent)]
pub struct Mutation<'gc> {
    /// The heap; allocation goes through `&self` (cells), collection needs
    /// the heap itself, which `mutate` borrows.
    pub(in crate::heap) raw: RawHeap,
    /// The brand (invariant).
    _brand: Invariant<'gc>,
}

impl<'gc> Mutation<'gc> {
    /// Moves `value` into the heap and returns a handle to it (the same as
    /// [`Gc::new`]).
    ///
    /// # Panics
    ///
    /// If `T` is aligned to more than half the heap's chunk size.
    #[inline(always)]
    #[track_caller]
    pub fn alloc<T: Managed + 'gc>(&self, value: T) -> Gc<'gc, T> {
        self.alloc_gc(value)
    }

    /// Bytes allocated since the last collection.
    pub fn allocated_since_collection(&self) -> usize {
        self.raw.allocated_since()
    }

    /// Whether the bytes allocated since the last collection reach the
    /// heap's [`Pacing`]: when [`Heap::collect_if_due`] would collect. An
    /// interpreter that runs in steps ends its step (returns from
    /// [`Heap::mutate`], so that the program can collect) when this says
    /// so.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Vec<Gc<'static, [u8; 64]>>> = Heap::new(|_| Vec::new());
    /// heap.set_pacing(Pacing { min_bytes: 4096, growth: 2.0 });
    /// let mut steps = 0;
    /// for _ in 0..10 {
    ///     // One step: allocate until a collection is due.
    ///     heap.mutate(|mc, list| {
    ///         while !mc.collection_due() {
    ///             list.push(Gc::new(mc, [0; 64]));
    ///             if list.len() > 100 {
    ///                 list.clear();
    ///             }
    ///         }
    ///     });
    ///     steps += 1;
    ///     assert!(heap.collect_if_due().is_some());
    /// }
    /// assert_eq!(steps, 10);
    /// ```
    #[must_use]
    pub fn collection_due(&self) -> bool {
        self.raw.due()
    }
}

impl<'gc, T> Index<Gc<'gc, T>> for Mutation<'gc> {
    type Output = T;

    #[inline(always)]
    fn index(&self, gc: Gc<'gc, T>) -> &T {
        gc.get(self)
    }
}

impl<'gc, T> IndexMut<Gc<'gc, T>> for Mutation<'gc> {
    #[inline(always)]
    fn index_mut(&mut self, gc: Gc<'gc, T>) -> &mut T {
        gc.get_mut(self)
    }
}

impl<'gc, T: ?Sized> Index<GcDyn<'gc, T>> for Mutation<'gc> {
    type Output = T;

    #[inline(always)]
    fn index(&self, gc: GcDyn<'gc, T>) -> &T {
        gc.get(self)
    }
}

impl<'gc, T: ?Sized> IndexMut<GcDyn<'gc, T>> for Mutation<'gc> {
    #[inline(always)]
    fn index_mut(&mut self, gc: GcDyn<'gc, T>) -> &mut T {
        gc.get_mut(self)
    }
}

impl fmt::Debug for Mutation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutation").finish_non_exhaustive()
    }
}
