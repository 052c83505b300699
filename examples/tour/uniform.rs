//! Tour section: the uniform page containers.

use managed::prelude::*;

pub(crate) fn run() {
    println!("== Uniform containers: one type per container, on pages");

    let mut deque: UniformPageDeque<u64> = UniformPageDeque::new();
    for i in 0..10_000 {
        deque.push_back(i);
    }
    deque.push_front(u64::MAX);
    println!(
        "   UniformPageDeque: {} elements, {} per page, front {:?}, back {:?}",
        deque.len(),
        deque.page_capacity(),
        deque.front(),
        deque.iter().next_back()
    );
    println!("     stats: {}", deque.stats());
    while deque.len() > 100 {
        deque.pop_front();
    }
    deque.shrink_to_fit();
    println!(
        "     after popping to 100 and shrink_to_fit: {}",
        deque.stats()
    );

    let mut queue = UniformPageQueue::new();
    let mut stack = UniformPageStack::new();
    for word in ["pages", "stay", "put"] {
        queue.push(word);
        stack.push(word);
    }
    println!(
        "   UniformPageQueue pops {:?}, UniformPageStack pops {:?}",
        queue.pop(),
        stack.pop()
    );

    let mut pool = UniformPool::new();
    let keys: Vec<PoolKey> = (0..5_000u32).map(|i| pool.insert([i; 4])).collect();
    for key in keys.iter().step_by(2) {
        pool.remove(*key);
    }
    println!(
        "   UniformPool: {} live after removing every other one; stale key answers {:?}",
        pool.len(),
        pool.get(keys[0])
    );
    println!("     stats: {}", pool.stats());
    for key in &keys[1..2_500] {
        pool.remove(*key);
    }
    pool.shrink_to_fit();
    println!(
        "     after removing the first half and shrink_to_fit: {} (key {:?} still reads {:?})",
        pool.stats(),
        keys[4_999],
        pool.get(keys[4_999]).map(|v| v[0])
    );
}
