//! Space statistics, reported by every container.

use core::fmt;

/// How much of a container's reserved memory holds live values.
///
/// Every container has a `stats()` method returning this. `live_bytes`
/// counts the bytes of the values currently stored (`size_of::<T>()` each,
/// or the value's own size in the untyped containers); `reserved_bytes`
/// counts everything the container holds from the global allocator for its
/// storage, headers and free space included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(::serde::Serialize, ::serde::Deserialize))]
#[non_exhaustive]
pub struct SpaceStats {
    /// Bytes occupied by live values. For the managed heap, between
    /// collections: by every object not reclaimed yet, garbage included
    /// (only a collection can tell them apart).
    pub live_bytes: usize,
    /// Bytes reserved from the global allocator for storage.
    pub reserved_bytes: usize,
}

impl SpaceStats {
    /// Builds a statistics record.
    #[must_use]
    pub const fn new(live_bytes: usize, reserved_bytes: usize) -> Self {
        Self {
            live_bytes,
            reserved_bytes,
        }
    }

    /// The fraction of reserved memory that holds live values, in `0.0..=1.0`.
    ///
    /// An empty container that reserves nothing is perfectly dense: `1.0`.
    #[must_use]
    pub fn space_ratio(&self) -> f64 {
        if self.reserved_bytes == 0 {
            1.0
        } else {
            self.live_bytes as f64 / self.reserved_bytes as f64
        }
    }

    /// Bytes reserved but not holding live values (headers, padding, holes
    /// and free capacity).
    #[must_use]
    pub const fn overhead_bytes(&self) -> usize {
        self.reserved_bytes.saturating_sub(self.live_bytes)
    }
}

impl fmt::Display for SpaceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} live / {} reserved bytes ({:.1}% dense)",
            self.live_bytes,
            self.reserved_bytes,
            self.space_ratio() * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_of_empty_and_half_full() {
        assert_eq!(SpaceStats::new(0, 0).space_ratio(), 1.0);
        assert_eq!(SpaceStats::new(512, 1024).space_ratio(), 0.5);
        assert_eq!(SpaceStats::new(512, 1024).overhead_bytes(), 512);
        assert_eq!(
            SpaceStats::new(512, 1024).to_string(),
            "512 live / 1024 reserved bytes (50.0% dense)"
        );
    }
}
