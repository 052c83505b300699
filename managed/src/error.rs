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
