//! The reinterpretation of a handle as the derive-generated field view of
//! its target, which [`Fields`]' contract makes sound.

use crate::contiguous::{Access, Fields};

/// Reinterprets a handle as the field view of its target.
#[inline]
pub(crate) fn view<H: Access>(handle: &H) -> &<H::Target as Fields>::View<H>
where
    H::Target: Fields,
{
    const {
        assert!(size_of::<<H::Target as Fields>::View<H>>() == size_of::<H>());
        assert!(align_of::<<H::Target as Fields>::View<H>>() == align_of::<H>());
    }
    let ptr = core::ptr::from_ref(handle).cast::<<H::Target as Fields>::View<H>>();
    // SAFETY: `Fields`' contract makes `View<H>` a transparent wrapper of
    // `H` (checked above for size and alignment), so the pointer is valid,
    // aligned and initialized for the view for as long as `handle` is
    // borrowed, and the view adds no interior mutability `H` lacks.
    unsafe { &*ptr }
}
