//! Tour section: drop_arena.

use managed::prelude::*;

pub(crate) fn run() {
    println!("== DropArena: a typed arena whose boxes give their slots back ==");
    let arena = &DropArena::new();
    let boxes: Vec<DropBox<'_, [u64; 4]>> = (0..100).map(|i| arena.alloc([i; 4])).collect();
    println!(
        "  100 boxes of [u64; 4]: len {}, max_len {}, {}",
        arena.len(),
        arena.max_len(),
        arena.stats()
    );

    // Give half of them back: the slots go on the free list.
    let mut sum = 0;
    for (i, b) in boxes.into_iter().enumerate() {
        if i % 2 == 0 {
            sum += arena.box_to_inner(b)[0];
        } else {
            arena.drop_box(b);
        }
    }
    println!(
        "  all 100 given back (sum of the unwrapped evens: {sum}): len {}",
        arena.len()
    );

    // New boxes reuse those slots: the peak does not move.
    let again: Vec<_> = (0..50).map(|i| arena.alloc([i; 4])).collect();
    println!(
        "  50 new boxes reuse freed slots: len {}, max_len {}, {}",
        arena.len(),
        arena.max_len(),
        arena.stats()
    );
    println!(
        "  a DropBox is {} bytes, an Option<DropBox> too: {} bytes",
        size_of::<DropBox<'_, [u64; 4]>>(),
        size_of::<Option<DropBox<'_, [u64; 4]>>>()
    );

    // Plain drop runs the destructor but keeps the slot until the arena drops.
    drop(again);
    println!(
        "  50 boxes dropped without the arena: len {} (slots kept)",
        arena.len()
    );

    // Zero-sized values cost nothing.
    let units = &DropArena::new();
    let many: Vec<DropBox<'_, ()>> = (0..1000).map(|_| units.alloc(())).collect();
    println!("  1000 boxes of (): len {}, {}", units.len(), units.stats());
    drop(many);
}
