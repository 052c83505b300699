//! The error type shared by every fallible allocation in the crate.

use core::alloc::Layout;
use core::fmt;

/// Why an allocation failed. Nothing was written and nothing was lost: the
/// container is exactly as it was before the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocError {
    /// The container has a fixed capacity and the request does not fit in
    /// what is left of it.
    Full {
        /// Bytes the request needed, padding included.
        requested: usize,
        /// Bytes still free in the container.
        available: usize,
    },
    /// The size computation for the request overflowed `isize::MAX`, or the
    /// layout is otherwise not representable.
    CapacityOverflow,
    /// The global allocator could not provide memory for this layout.
    OutOfMemory {
        /// The layout that was requested from the global allocator.
        layout: Layout,
    },
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AllocError::Full {
                requested,
                available,
            } => write!(
                f,
                "allocation of {requested} bytes does not fit: {available} bytes free"
            ),
            AllocError::CapacityOverflow => f.write_str("allocation size overflows isize::MAX"),
            AllocError::OutOfMemory { layout } => write!(
                f,
                "the global allocator failed to provide {} bytes aligned to {}",
                layout.size(),
                layout.align()
            ),
        }
    }
}

impl core::error::Error for AllocError {}

/// Why a value could not be allocated, with the value given back.
///
/// It works with `?` in a function that returns `Result<_, AllocError>`,
/// or `Box<dyn Error>` for a `'static` value (one that holds region items
/// is not: write `.map_err(AllocError::from)?` there): the value is then
/// dropped. [`into_value`](Self::into_value) gives the value back
/// instead. Its `Debug` names the
/// value's type without printing the value, so `unwrap` and `expect` work
/// whatever the value is.
///
/// ```
/// use managed::prelude::*;
///
/// fn two<'id>(arena: &Arena<'id, 16>, state: &State<'id>) -> Result<u64, AllocError> {
///     let a = arena.alloc(state, String::from("a"))?;
///     let b = arena.alloc(state, String::from("b"))?;
///     Ok((a.len() + b.len()) as u64)
/// }
///
/// make_guard!(guard);
/// let (arena, state): (Arena<'_, 16>, _) = Arena::new(guard);
/// let err = two(&arena, &state).unwrap_err(); // two Strings need 48 bytes
/// assert!(matches!(err, AllocError::Full { .. }));
///
/// let big = arena.alloc(&state, [1u8; 64]).unwrap_err();
/// assert_eq!(big.into_value(), [1u8; 64]); // nothing is lost
/// ```
pub struct AllocValueError<T> {
    /// Why.
    error: AllocError,
    /// The value that was not stored.
    value: T,
}

impl<T> AllocValueError<T> {
    /// The error and the value. (Only the region makes them, which exists
    /// on 64-bit targets only.)
    #[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
    pub(crate) fn new(error: AllocError, value: T) -> Self {
        Self { error, value }
    }

    /// Why the allocation failed.
    #[must_use]
    pub fn error(&self) -> AllocError {
        self.error
    }

    /// The value, back.
    #[must_use]
    pub fn into_value(self) -> T {
        self.value
    }

    /// The error and the value.
    #[must_use]
    pub fn into_parts(self) -> (AllocError, T) {
        (self.error, self.value)
    }
}

impl<T> From<AllocValueError<T>> for AllocError {
    /// The error alone; the value is dropped.
    fn from(e: AllocValueError<T>) -> AllocError {
        e.error
    }
}

impl<T> fmt::Debug for AllocValueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllocValueError")
            .field("error", &self.error)
            .field("value", &format_args!("<{}>", core::any::type_name::<T>()))
            .finish()
    }
}

impl<T> fmt::Display for AllocValueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<T> core::error::Error for AllocValueError<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_error_works_with_question_mark() {
        fn fails() -> Result<(), Box<dyn std::error::Error>> {
            Err(AllocError::Full {
                requested: 8,
                available: 4,
            })?;
            Ok(())
        }
        let e = fails().unwrap_err();
        assert_eq!(
            e.to_string(),
            "allocation of 8 bytes does not fit: 4 bytes free"
        );
    }
}
