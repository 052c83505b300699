//! MemoryArena: scoped bump allocation with reuse, in-place construction and destructors.
//! Tour section: scoped.

use managed::prelude::*;

trait Eval {
    fn eval(&self, rhs: i32) -> i32;
}

struct Add(i32);
impl Eval for Add {
    fn eval(&self, rhs: i32) -> i32 {
        self.0 + rhs
    }
}

/// Needs dropping: says so when its scope ends.
struct Loud(&'static str);
impl Drop for Loud {
    fn drop(&mut self) {
        println!("    dropped {:?} as its scope ended", self.0);
    }
}

pub(crate) fn run() {
    println!("== scoped: MemoryArena and ArenaScope ==");
    let mut arena = MemoryArena::new(2);
    for pixel in 0..3 {
        let alloc = arena.allocator();
        let x: &mut [usize; 16] = alloc.alloc([0usize; 16]);
        x[15] = pixel;
        let e: &dyn Eval = alloc.alloc(Add(4));
        // 8 MiB, written in place: bigger than a block, so it gets its own.
        let bytes: &mut [u8] = alloc.alloc_slice_fill_copy(8 * 1024 * 1024, 0u8);
        bytes[0] = 1;
        alloc.alloc(Loud(["first", "second", "third"][pixel]));
        println!(
            "  pixel {pixel}: eval = {}, scope {}",
            e.eval(x[15] as i32),
            alloc.stats()
        );
    }
    println!(
        "  after 3 scopes: {} blocks, {} (the blocks were reused, not freed)",
        arena.block_count(),
        arena.stats()
    );
    {
        let scope = arena.allocator();
        let mut v = allocator_api2::vec::Vec::new_in(&scope);
        v.extend(0..1000u32);
        let mut map = hashbrown::HashMap::new_in(&scope);
        map.insert("answer", 42);
        println!(
            "  collections in a scope: vec of {}, map of {}; scope {}",
            v.len(),
            map.len(),
            scope.stats()
        );
    }
    arena.reset();
    println!(
        "  after reset: {} block, {}",
        arena.block_count(),
        arena.stats()
    );
    arena.shrink_to_fit();
    println!("  after shrink_to_fit: {}", arena.stats());
}
