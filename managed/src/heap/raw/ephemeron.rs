//! Weakly keyed entries as ephemerons: the value of a map entry whose key
//! holds weak handles is reachable only while every object those handles
//! point at is reachable from elsewhere.
//!
//! The maps (`visit::raw::keyed`) ask the visitor, through the hidden
//! [`Visitor::ephemerons`](crate::Visitor::ephemerons), for the
//! collection's [`Ephemerons`], and ask it about each weak handle of each
//! key whose entry's value holds references ([`Ephemerons::weak_key`]):
//!
//! - **While marking**, a key whose weak handles all point at marked
//!   objects (or are dead from before) is [`KeyState::Live`], and its
//!   value is traced at once. Otherwise the key is [`KeyState::Pending`]:
//!   the value is not traced but deferred ([`Ephemerons::defer`]), with
//!   the objects its key waits for. Once the work queue is drained, the
//!   collector traces the deferred values whose keys' objects were marked
//!   since ([`Marker::trace_ready`]), drains the queue again, and repeats
//!   until no deferred value is ready. The ones left are the values of
//!   keys that died: never traced.
//! - **After marking** (the rewriting, the destructors' panic path, the
//!   recording of object starts), a key with a weak handle to an unmarked
//!   object is [`KeyState::Dead`]: its entry is dropped by the map's
//!   rebuild in the pass that makes the handle dead, and its value, whose
//!   handles may point at objects this collection dropped, is visited by
//!   no pass at all.
//!
//! The two passes agree on which values are traced because both decide
//! from the same marks: a value is traced exactly when its key ends up
//! live, and a value that is not traced is dropped with its entry in the
//! same collection.
//!
//! The rewriting pass's record also takes the entries the maps drop
//! while it runs (those of keys that died, those whose values hold only
//! dead weak handles): [`Ephemerons::bury`] keeps them, type-erased, and
//! the collection drops them once every handle is rewritten, where a
//! destructor's panic can propagate (in the rewriting step it would have
//! to abort the process).
//!
//! No other visitor has an `Ephemerons` (the type cannot be named outside
//! this crate), so to every other visitor a map's values are plain values.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;

use scopeguard::guard;

use super::{Marker, dead, is_marked, mark_erased};
use crate::visit::Managed;

/// What a collection knows of a key from its weak handles: combined over
/// the handles by `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyState {
    /// Every weak handle points at a marked object or was dead before the
    /// collection: the entry stays, and its value is a value like any
    /// other.
    Live,
    /// While marking: some weak handle's object is not marked yet. The
    /// value waits until it is.
    Pending,
    /// After marking: some weak handle's object was not marked. The entry
    /// goes, and its value is not visited.
    Dead,
}

/// The holder of the values deferred while tracing the root (or the held
/// handles): not a queue index.
const ROOT: usize = usize::MAX;

/// A value whose key waits for objects to be marked.
#[derive(Clone, Copy, Debug)]
struct Deferred {
    /// The value, in its map, in an object (or the root) that marking has
    /// traced: nothing moves or changes it until marking ends, and nothing
    /// else reads it meanwhile.
    value: NonNull<u8>,
    /// Traces the value (`mark_erased` of its type).
    trace: unsafe fn(NonNull<u8>, &mut Marker),
    /// `Ephemerons::targets[from..to]`: the objects of the key's weak
    /// handles that were not marked when the value was deferred.
    from: usize,
    to: usize,
    /// The queue index of the object holding the map ([`ROOT`]: the root
    /// or a held handle), to which the value's handles' reach is added
    /// when it is traced.
    holder: usize,
}

/// Entries a map dropped during the rewriting, kept until the collection
/// is consistent: a `Box<Vec<E>>` of one map's entries, and the function
/// that frees it.
#[derive(Debug)]
pub(super) struct Buried {
    /// Invariant: from `Box::into_raw` of a `Box<Vec<E>>` for the `E`
    /// that `drop` was made for, owned by this record.
    entries: NonNull<u8>,
    drop: unsafe fn(NonNull<u8>),
}

/// Frees a [`Buried`] record's entries, dropping each.
///
/// # Safety
///
/// `p` is from `Box::into_raw` of a `Box<Vec<E>>`, freed once.
unsafe fn drop_buried<E>(p: NonNull<u8>) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { Box::from_raw(p.cast::<Vec<E>>().as_ptr()) });
}

/// Drops the entries of every record, in order, going on with the next
/// records if a destructor panics (the first panic propagates once all
/// are dropped; a second aborts, as unwinding through a destructor does).
pub(super) fn drop_graveyard(graveyard: Vec<Buried>) {
    let mut rest = guard(graveyard.into_iter(), |rest| {
        for record in rest {
            // SAFETY: a record's entries, freed once (invariant on
            // `Buried::entries`; the iterator hands each record out once).
            unsafe { (record.drop)(record.entries) };
        }
    });
    // (On success the guard finds nothing left.)
    for record in &mut *rest {
        // SAFETY: as in the guard.
        unsafe { (record.drop)(record.entries) };
    }
}

/// The weakly keyed entries of one collection pass (see the module docs).
#[doc(hidden)]
#[derive(Debug)]
pub struct Ephemerons {
    /// The heap's chunk mask.
    mask: usize,
    /// Whether marking is under way: unmarked objects may still be
    /// reached (keys are pending); else the marks are complete (keys are
    /// dead).
    marking: bool,
    /// The values waiting, in no particular order.
    deferred: Vec<Deferred>,
    /// The objects the deferred values wait for, each value's in a run.
    ///
    /// Invariant: each is the start of an object of a live chunk of this
    /// heap (a weak handle's object, not dead, during marking).
    targets: Vec<NonNull<u8>>,
    /// The queue index of the object being traced ([`ROOT`]: the root or
    /// the held handles), recorded with each value deferred. (One word,
    /// stored before each object is traced.)
    pub(super) holder: usize,
    /// Whether the maps' dropped entries are kept in `graveyard` (the
    /// rewriting pass) rather than dropped at once.
    buries: bool,
    /// The entries kept, for the collection to drop.
    pub(super) graveyard: Vec<Buried>,
}

impl Ephemerons {
    /// The gate of the marking pass.
    pub(super) const fn marking(mask: usize) -> Self {
        Ephemerons {
            mask,
            marking: true,
            deferred: Vec::new(),
            targets: Vec::new(),
            holder: ROOT,
            buries: false,
            graveyard: Vec::new(),
        }
    }

    /// The gate of a pass after marking, whose marks are complete; the
    /// rewriting pass's (`buries`) keeps the entries the maps drop.
    pub(super) const fn settled(mask: usize, buries: bool) -> Self {
        Ephemerons {
            mask,
            marking: false,
            deferred: Vec::new(),
            targets: Vec::new(),
            holder: ROOT,
            buries,
            graveyard: Vec::new(),
        }
    }

    /// Takes the entries a map dropped: kept for the collection to drop
    /// once it is consistent (the rewriting pass), or dropped now.
    pub(crate) fn bury<E>(&mut self, entries: Vec<E>) {
        if !self.buries || entries.is_empty() || !core::mem::needs_drop::<E>() {
            drop(entries);
            return;
        }
        let entries = NonNull::from(Box::leak(Box::new(entries))).cast();
        // Invariant on `Buried::entries`: from `Box::into_raw` (`leak`) of
        // a `Box<Vec<E>>`, for `drop_buried::<E>`.
        self.graveyard.push(Buried {
            entries,
            drop: drop_buried::<E>,
        });
    }

    /// What the weak handle `target`, one of a key's, tells of the key.
    /// While marking, a pending handle's object is recorded for
    /// [`defer`](Self::defer).
    ///
    /// # Safety
    ///
    /// `target` is what a weak handle reachable from the root holds: the
    /// dead marker, or the start of an object of a live chunk of this heap
    /// that was live when the collection began.
    #[inline]
    pub(crate) unsafe fn weak_key(&mut self, target: NonNull<u8>) -> KeyState {
        if target == dead() {
            return KeyState::Live;
        }
        // SAFETY: not dead, so the start of an object of a live chunk of
        // this heap (caller).
        if unsafe { is_marked(target, self.mask) } {
            KeyState::Live
        } else if self.marking {
            self.targets.push(target);
            KeyState::Pending
        } else {
            KeyState::Dead
        }
    }

    /// How many objects are recorded: the start of the next key's run.
    #[inline]
    pub(crate) fn recorded(&self) -> usize {
        self.targets.len()
    }

    /// Defers tracing `value` until the objects recorded since `from` (the
    /// pending weak handles of its key) are all marked.
    ///
    /// # Safety
    ///
    /// Called while marking, from the walk of an object (or the root) that
    /// marking traces, with a value of a map in it whose key's pending
    /// handles were recorded since `from`. The caller's borrow of `value`
    /// ends with the walk: nothing but the marking reads or writes the
    /// value before marking ends.
    #[inline]
    pub(crate) unsafe fn defer<T: Managed>(&mut self, value: &mut T, from: usize) {
        debug_assert!(self.marking && from < self.targets.len());
        self.deferred.push(Deferred {
            value: NonNull::from(value).cast(),
            trace: mark_erased::<T>,
            from,
            to: self.targets.len(),
            holder: self.holder,
        });
    }
}

impl Marker {
    /// Traces the deferred values whose keys' objects are all marked now,
    /// adding each one's reach to its holder's. Returns whether any was
    /// traced (the queue may then hold new objects to trace).
    ///
    /// # Safety
    ///
    /// Called during marking, with the queue drained; the deferred values
    /// were deferred in this marking (invariant on `Deferred::value`).
    #[inline(never)]
    pub(super) unsafe fn trace_ready(&mut self) -> bool {
        let mut deferred = core::mem::take(&mut self.ephemerons.deferred);
        let mut kept = 0;
        let mut traced = false;
        for n in 0..deferred.len() {
            let d = deferred[n];
            let mask = self.mask;
            // SAFETY: each target is the start of an object of a live chunk
            // (invariant on `targets`).
            let ready = self.ephemerons.targets[d.from..d.to]
                .iter()
                .all(|&t| unsafe { is_marked(t, mask) });
            if !ready {
                deferred[kept] = d;
                kept += 1;
                continue;
            }
            traced = true;
            self.ephemerons.holder = d.holder;
            self.reach = 0;
            // SAFETY: a live value of the type `trace` is made for, which
            // nothing has touched since it was deferred (invariant on
            // `value`), unaliased: marking traces each value once.
            unsafe { (d.trace)(d.value, self) };
            if let Some((p, _)) = self.queue.get(d.holder) {
                // Perhaps listed as young already: `finish_ephemerons`
                // sorts and dedups.
                // SAFETY: the queue's entry `d.holder`, a traced object.
                unsafe { self.note_reach(d.holder, p) };
            }
        }
        deferred.truncate(kept);
        // Values deferred while tracing these (maps in them) join the rest.
        deferred.append(&mut self.ephemerons.deferred);
        self.ephemerons.deferred = deferred;
        traced
    }

    /// Ends marking: the values still deferred belong to keys that died
    /// and are never traced; the list of young objects is put back in
    /// queue order, each once.
    #[inline(never)]
    pub(super) fn finish_ephemerons(&mut self) {
        if self.ephemerons.targets.capacity() > 0 {
            self.ephemerons.deferred = Vec::new();
            self.ephemerons.targets = Vec::new();
            self.young.sort_unstable();
            self.young.dedup();
        }
    }
}
