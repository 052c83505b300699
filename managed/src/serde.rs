//! `serde` support, with the `serde` feature.
//!
//! - The keys of a [`ContiguousUniformPool`](crate::contiguous::ContiguousUniformPool)
//!   are `slotmap` keys ([`DefaultKey`](crate::contiguous::DefaultKey) and
//!   those of [`new_key_type!`](crate::contiguous::new_key_type)), which the
//!   feature makes serializable, as in `slotmap`.
//! - The uniform page containers ([`UniformPageDeque`], [`UniformPageQueue`],
//!   [`UniformPageStack`]) serialize as the sequence of their elements, front
//!   to back, and deserialize from one (with default page headers `H`).
//! - [`SpaceStats`](crate::SpaceStats) serializes as a struct.
//!
//! Left out on purpose: the keys of [`UniformPool`](crate::uniform::UniformPool)
//! and [`MultisizePool`](crate::multisize::MultisizePool) carry the id of
//! the one pool, in the one process, that made them, which no deserialized
//! pool can have; pools whose values are reached through handles (proxies,
//! region items, heap `Gc`s) would lose them.
//!
//! ```
//! use managed::prelude::*;
//!
//! let stack: UniformPageStack<u32> = [1, 2, 3].into_iter().collect();
//! let json = serde_json::to_string(&stack).unwrap();
//! assert_eq!(json, "[1,2,3]");
//! let mut back: UniformPageStack<u32> = serde_json::from_str(&json).unwrap();
//! assert_eq!(back.pop(), Some(3));
//! ```

use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

use crate::uniform::{UniformPageDeque, UniformPageQueue, UniformPageStack};

impl<T: Serialize, H> Serialize for UniformPageDeque<T, H> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>, H: Default> Deserialize<'de> for UniformPageDeque<T, H> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Pushes every element of the sequence at the back.
        struct Elements<T, H>(PhantomData<fn() -> (T, H)>);

        impl<'de, T: Deserialize<'de>, H: Default> Visitor<'de> for Elements<T, H> {
            type Value = UniformPageDeque<T, H>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of elements")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut deque = UniformPageDeque::default();
                while let Some(value) = seq.next_element()? {
                    deque.push_back(value);
                }
                Ok(deque)
            }
        }

        deserializer.deserialize_seq(Elements(PhantomData))
    }
}

/// The queue and the stack: their deque's elements, in its order (for the
/// stack, bottom to top), and back through `From<UniformPageDeque>`.
macro_rules! through_the_deque {
    ($($name:ident),*) => {$(
        impl<T: Serialize, H> Serialize for $name<T, H> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.as_deque().serialize(serializer)
            }
        }

        impl<'de, T: Deserialize<'de>, H: Default> Deserialize<'de> for $name<T, H> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                UniformPageDeque::deserialize(deserializer).map(Self::from)
            }
        }
    )*};
}

through_the_deque!(UniformPageQueue, UniformPageStack);
