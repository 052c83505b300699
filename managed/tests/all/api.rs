//! API hygiene: which handles and iterators cross threads (as their peers'
//! do), a `MultisizePool<SendValues>` that does, and `Debug` on the public
//! types. What must not cross threads is in `tests/ui/*/..._not_send.rs`.

use std::cell::Cell;

use managed::prelude::*;

use crate::common::Ledger;

fn send<T: Send>() {}
fn sync<T: Sync>() {}

#[test]
fn iterators_cross_threads_where_their_peers_do() {
    // `VecDeque`'s and `slab`'s: shared iterators need `Sync` values,
    // exclusive ones `Send` values.
    send::<managed::uniform::Iter<'static, u32>>();
    sync::<managed::uniform::Iter<'static, u32>>();
    send::<managed::uniform::IterMut<'static, Cell<u32>>>();
    send::<managed::uniform::IntoIter<Cell<u32>>>();
    send::<managed::uniform::pool_iter::Iter<'static, u32>>();
    sync::<managed::uniform::pool_iter::Values<'static, u32>>();
    send::<managed::uniform::pool_iter::Keys<'static, u32>>();
    sync::<managed::uniform::pool_iter::Keys<'static, u32>>();
    send::<managed::uniform::pool_iter::IterMut<'static, Cell<u32>>>();
    send::<managed::uniform::pool_iter::ValuesMut<'static, Cell<u32>>>();
    // `Vec<Box<dyn Trait>>`'s.
    send::<managed::multisize::Iter<'static, dyn core::fmt::Debug + Sync>>();
    sync::<managed::multisize::Iter<'static, dyn core::fmt::Debug + Sync>>();
    send::<managed::multisize::IterMut<'static, dyn core::fmt::Debug + Send>>();
}

#[test]
fn a_shared_iterator_reads_on_another_thread() {
    let mut deque = UniformPageDeque::new();
    let mut pool = UniformPool::new();
    for i in 0..100u64 {
        deque.push_back(i);
        pool.insert(i);
    }
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| deque.iter().sum::<u64>());
        let b = s.spawn(|| pool.iter().map(|(_, v)| *v).sum::<u64>());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a, b), (4950, 4950));
    std::thread::scope(|s| {
        s.spawn(|| deque.iter_mut().for_each(|v| *v *= 2));
    });
    assert_eq!(deque.iter().sum::<u64>(), 9900);
}

#[test]
fn a_pool_of_send_values_moves_to_another_thread() {
    let drops = Ledger::new();
    let mut pool: MultisizePool<SendValues> = MultisizePool::default();
    let name = pool.insert(String::from("moved"));
    let big = pool.insert([7u64; 512]); // the large path
    let counted = pool.insert(drops.track(0));
    let pool = std::thread::spawn(move || {
        assert_eq!(pool.get(name).map(String::as_str), Some("moved"));
        assert_eq!(pool.get(big).map(|a| a[511]), Some(7));
        pool
    })
    .join()
    .unwrap();
    let mut pool = std::thread::spawn(move || pool).join().unwrap();
    assert!(pool.remove(counted).is_some());
    assert_eq!(drops.total(), 1);
    assert_eq!(pool.len(), 2);
    drop(pool);
    assert_eq!(drops.total(), 1, "each value dropped once");
}

#[test]
fn public_types_debug_format() {
    let mut deque = UniformPageDeque::new();
    deque.extend([1u8, 2, 3]);
    let mut it = deque.iter();
    it.next();
    assert_eq!(format!("{it:?}"), "Iter { remaining: 2, .. }");
    assert_eq!(
        format!("{:?}", deque.iter_mut()),
        "IterMut { remaining: 3, .. }"
    );
    assert!(format!("{:?}", deque.clone().into_iter()).starts_with("IntoIter("));
    let mut pool = UniformPool::new();
    pool.insert('x');
    assert_eq!(
        format!("{:?}", pool.values()),
        "Values(Iter { remaining: 1, .. })"
    );
    assert_eq!(
        format!("{:?}", pool.values_mut()),
        "ValuesMut(IterMut { remaining: 1, .. })"
    );
    let sendable: MultisizePool<SendValues> = MultisizePool::default();
    assert!(format!("{sendable:?}").starts_with("MultisizePool {"));
}
