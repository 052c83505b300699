//! The `serde` feature: keys of the contiguous pool and the uniform page
//! containers survive a round trip through JSON.

use managed::prelude::*;

new_key_type! {
    /// Keys of one pool of the test.
    struct ParticleKey;
}

#[test]
fn contiguous_pool_keys_round_trip() {
    let pool: ContiguousUniformPool<u32, ParticleKey> = ContiguousUniformPool::with_key();
    let keys: Vec<ParticleKey> = (0..5).map(|i| pool.insert(i * 10)).collect();
    pool.remove(keys[1]);
    let json = serde_json::to_string(&keys).unwrap();
    let back: Vec<ParticleKey> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, keys);
    let values: Vec<Option<u32>> = back.iter().map(|&k| pool.get(k).map(|v| *v)).collect();
    assert_eq!(values, [Some(0), None, Some(20), Some(30), Some(40)]);
}

#[test]
fn uniform_containers_round_trip_in_order() {
    let mut deque = UniformPageDeque::new();
    for i in 0..300u64 {
        if i % 2 == 0 {
            deque.push_back(i);
        } else {
            deque.push_front(i);
        }
    }
    let json = serde_json::to_string(&deque).unwrap();
    let back: UniformPageDeque<u64> = serde_json::from_str(&json).unwrap();
    assert!(back.iter().eq(deque.iter()));

    let queue: UniformPageQueue<String> = ["a", "b", "c"].map(String::from).into_iter().collect();
    let mut back: UniformPageQueue<String> =
        serde_json::from_str(&serde_json::to_string(&queue).unwrap()).unwrap();
    assert_eq!(back.pop().as_deref(), Some("a"), "first in, first out");

    let stack: UniformPageStack<(u8, bool)> = [(1, true), (2, false)].into_iter().collect();
    let mut back: UniformPageStack<(u8, bool)> =
        serde_json::from_str(&serde_json::to_string(&stack).unwrap()).unwrap();
    assert_eq!(back.pop(), Some((2, false)), "last in, first out");

    let err = serde_json::from_str::<UniformPageDeque<u8>>("[1, 300]").unwrap_err();
    assert!(err.to_string().contains("300"), "{err}");
}

#[test]
fn space_stats_serialize_as_a_struct() {
    let mut deque = UniformPageDeque::new();
    deque.push_back(1u64);
    let json = serde_json::to_value(deque.stats()).unwrap();
    assert_eq!(json["live_bytes"], 8);
    assert!(json["reserved_bytes"].as_u64().unwrap() >= 8);
    let back: SpaceStats = serde_json::from_value(json).unwrap();
    assert_eq!(back, deque.stats());
}
