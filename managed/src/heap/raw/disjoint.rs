//! [`Mutation::get_disjoint_mut`]: several objects written at once, each
//! through its own handle (`Gc` or `GcDyn`, of one type in an array or of
//! different types in a tuple), after a check that the handles point at
//! pairwise different objects. Invariant: the references it hands out
//! borrow the token exclusively, as `mc[gc]` does.

use core::ptr::NonNull;

use crate::heap::{Gc, GcDyn, Mutation};

mod sealed {
    /// Keeps [`Handle`](super::Handle) and [`Handles`](super::Handles)
    /// implemented by this module only.
    pub trait Sealed {}
}

/// A handle to one object of the heap branded `'gc`: a [`Gc`] or a
/// [`GcDyn`]. Sealed: implemented by the crate's handles only.
///
/// # Safety
///
/// `ptr` returns the address of a live object of the heap branded `'gc`,
/// of type `Target`, which stays in place while `'gc` lasts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a heap handle",
    label = "not a `Gc` or a `GcDyn`",
    note = "`get_disjoint_mut` hands out the objects of `Gc` and `GcDyn` handles"
)]
pub unsafe trait Handle<'gc>: Copy + sealed::Sealed {
    /// The type of the object, as the handle sees it.
    type Target: ?Sized + 'gc;

    /// The object's address, with the target's metadata.
    #[doc(hidden)]
    fn ptr(self) -> NonNull<Self::Target>;
}

impl<T> sealed::Sealed for Gc<'_, T> {}

// SAFETY: the field invariant of `Gc`.
unsafe impl<'gc, T: 'gc> Handle<'gc> for Gc<'gc, T> {
    type Target = T;

    #[inline(always)]
    fn ptr(self) -> NonNull<T> {
        Gc::ptr(self)
    }
}

impl<T: ?Sized> sealed::Sealed for GcDyn<'_, T> {}

// SAFETY: the field invariant of `GcDyn`.
unsafe impl<'gc, T: ?Sized + 'gc> Handle<'gc> for GcDyn<'gc, T> {
    type Target = T;

    #[inline(always)]
    fn ptr(self) -> NonNull<T> {
        GcDyn::ptr(self)
    }
}

/// Handles that [`Mutation::get_disjoint_mut`] takes: an array of one
/// handle type (`[Gc<'gc, Body>; N]`, `[GcDyn<'gc, dyn Shape>; N]`), or a
/// tuple of up to six handles of any types (`(Gc<'gc, Body>, GcDyn<'gc,
/// dyn Shape>)`). Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a group of heap handles",
    label = "expected an array or a tuple of `Gc` or `GcDyn` handles",
    note = "`get_disjoint_mut` takes `[a, b, ..]` (handles of one type) or `(a, b, ..)` (up to six, of any types)"
)]
pub trait Handles<'gc>: sealed::Sealed {
    /// One `&'b mut` per handle, in the same shape.
    type Refs<'b>
    where
        'gc: 'b;

    /// Whether two of the handles point at the same object.
    #[doc(hidden)]
    fn overlap(&self) -> bool;

    /// The references.
    ///
    /// # Safety
    ///
    /// The handles point at pairwise different objects (`overlap` is
    /// `false`), and no other reference to any of them is live for `'b`.
    #[doc(hidden)]
    unsafe fn get<'b>(self) -> Self::Refs<'b>
    where
        'gc: 'b;
}

/// Whether two of the addresses are equal (`n²/2` compares: `n` is small).
#[inline]
fn any_equal(addrs: &[*const u8]) -> bool {
    addrs
        .iter()
        .enumerate()
        .any(|(i, a)| addrs[..i].contains(a))
}

impl<H, const N: usize> sealed::Sealed for [H; N] {}

impl<'gc, H: Handle<'gc>, const N: usize> Handles<'gc> for [H; N] {
    type Refs<'b>
        = [&'b mut H::Target; N]
    where
        'gc: 'b;

    #[inline]
    fn overlap(&self) -> bool {
        any_equal(&self.map(|h| h.ptr().as_ptr().cast_const().cast::<u8>()))
    }

    #[inline]
    unsafe fn get<'b>(self) -> Self::Refs<'b>
    where
        'gc: 'b,
    {
        // SAFETY: 1. each object is live and stays in place while `'gc`
        // lasts (`Handle`'s contract); 2. the handles point at pairwise
        // different addresses, so at different objects, which do not
        // overlap (every object has at least one granule of its own);
        // 3. no other reference to any of them is live for `'b` (caller).
        self.map(|h| unsafe { &mut *h.ptr().as_ptr() })
    }
}

macro_rules! tuple {
    ($($h:ident $i:tt),+) => {
        impl<$($h),+> sealed::Sealed for ($($h,)+) {}

        impl<'gc, $($h: Handle<'gc>),+> Handles<'gc> for ($($h,)+) {
            type Refs<'b>
                = ($(&'b mut $h::Target,)+)
            where
                'gc: 'b;

            #[inline]
            fn overlap(&self) -> bool {
                any_equal(&[$(self.$i.ptr().as_ptr().cast_const().cast::<u8>()),+])
            }

            #[inline]
            unsafe fn get<'b>(self) -> Self::Refs<'b>
            where
                'gc: 'b,
            {
                // SAFETY: as for arrays: live objects at pairwise
                // different addresses, so disjoint, and unaliased for
                // `'b` (caller).
                unsafe { ($(&mut *self.$i.ptr().as_ptr(),)+) }
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);
tuple!(A 0, B 1, C 2, D 3);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

impl<'gc> Mutation<'gc> {
    /// Several objects at once, each exclusively, for as long as the token
    /// is borrowed; `None` if two of the handles point at the same object.
    ///
    /// `mc[gc]` writes one object at a time; this is for an edit that
    /// needs two or more (swapping two nodes' children, an impulse applied
    /// to both bodies of a contact, a behaviour updating its entity). The
    /// handles come as an array of one handle type, giving an array of
    /// references, or as a tuple of up to six handles of any types
    /// ([`Gc`]s and [`GcDyn`]s), giving a tuple. They are compared
    /// pairwise (`N²/2` compares).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Body {
    ///     velocity: f32,
    ///     mass: f32,
    /// }
    ///
    /// trait Force {
    ///     fn apply(&mut self, body: &mut Body);
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Brake {
    ///     uses: u32,
    /// }
    ///
    /// impl Force for Brake {
    ///     fn apply(&mut self, body: &mut Body) {
    ///         body.velocity /= 2.0;
    ///         self.uses += 1;
    ///     }
    /// }
    ///
    /// #[derive(Managed)]
    /// struct World<'gc> {
    ///     bodies: Vec<Gc<'gc, Body>>,
    ///     force: GcDyn<'gc, dyn Force>,
    /// }
    ///
    /// let mut heap: Heap<World<'static>> = Heap::new(|mc| World {
    ///     bodies: vec![
    ///         Gc::new(mc, Body { velocity: 2.0, mass: 1.0 }),
    ///         Gc::new(mc, Body { velocity: -1.0, mass: 2.0 }),
    ///     ],
    ///     force: unsize!(Gc::new(mc, Brake { uses: 0 }) => dyn Force),
    /// });
    /// heap.mutate(|mc, world| {
    ///     // One type: an array. A perfectly inelastic collision.
    ///     let [a, b] = mc.try_get_disjoint_mut([world.bodies[0], world.bodies[1]]).unwrap();
    ///     let v = (a.velocity * a.mass + b.velocity * b.mass) / (a.mass + b.mass);
    ///     (a.velocity, b.velocity) = (v, v);
    ///     assert!(mc.try_get_disjoint_mut([world.bodies[0], world.bodies[0]]).is_none());
    ///     // Different types: a tuple. The force and the body it acts on.
    ///     let (force, body) = mc.get_disjoint_mut((world.force, world.bodies[1]));
    ///     force.apply(body);
    ///     assert_eq!(mc[world.bodies[1]].velocity, 0.0);
    /// });
    /// ```
    #[inline]
    pub fn try_get_disjoint_mut<'b, H: Handles<'gc>>(
        &'b mut self,
        handles: H,
    ) -> Option<H::Refs<'b>> {
        if handles.overlap() {
            return None;
        }
        // SAFETY: no two handles point at the same object (just checked);
        // every reference to a heap object of this mutation borrows its
        // token, which is borrowed exclusively for `'b`.
        Some(unsafe { handles.get() })
    }

    /// Several objects at once, each exclusively, as
    /// [`try_get_disjoint_mut`](Self::try_get_disjoint_mut).
    ///
    /// # Panics
    ///
    /// If two of the handles point at the same object (at the caller's
    /// line).
    #[inline]
    #[track_caller]
    pub fn get_disjoint_mut<'b, H: Handles<'gc>>(&'b mut self, handles: H) -> H::Refs<'b> {
        match self.try_get_disjoint_mut(handles) {
            Some(objects) => objects,
            None => panic!("get_disjoint_mut: two handles point at the same object"),
        }
    }
}
