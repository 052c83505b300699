//! Tour section: hot.

use managed::prelude::*;

pub(crate) fn run() {
    println!("== hot pool: Pool, Slot, PoolBox");
    let pool: Pool<[u64; 2]> = Pool::new();
    println!("new pool: capacity {}, {}", pool.capacity(), pool.stats());

    let mut a: Slot<[u64; 2]> = pool.alloc([1, 2]);
    a.get_mut()[1] = 20;
    let mut p = pool.alloc([3, 4]);
    p.pin();
    println!(
        "two slots: a = {:?} ({:?}), p = {:?} ({:?}); capacity {}, {}",
        a.get(),
        a.state(),
        p.get(),
        p.state(),
        pool.capacity(),
        pool.stats()
    );

    let tagged = a.into_u64() | 0xfffc_0000_0000_0000 | 0b001;
    println!(
        "slot NaN-tagged into {tagged:#018x}: f64 is NaN = {}",
        f64::from_bits(tagged).is_nan()
    );
    // SAFETY: `tagged` holds the only handle to a live slot of `pool`.
    let a: Slot<[u64; 2]> = unsafe { Slot::from_u64_masked(tagged) };

    let boxes: Vec<PoolBox<'_, [u64; 2]>> = (0..100).map(|i| pool.alloc_box([i, i])).collect();
    println!(
        "plus 100 PoolBoxes: len {}, capacity {}, {}",
        pool.len(),
        pool.capacity(),
        pool.stats()
    );
    drop(boxes);
    // SAFETY: both slots come from `pool`, no reference into them is alive.
    unsafe {
        println!("took a back: {:?}", pool.take(a));
        pool.free(p);
    }
    println!(
        "all given back: len {}, capacity {} kept for reuse, {}",
        pool.len(),
        pool.capacity(),
        pool.stats()
    );
}
