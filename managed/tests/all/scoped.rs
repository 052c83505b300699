//! MemoryArena / ArenaScope: blocks and their reuse, values bigger than a
//! block built in place, alignment, large values on a small stack, size
//! overflow, and collections living in a scope.

use managed::prelude::*;
use std::mem;

/// 8 MiB natively; much smaller under Miri, which is slow on big buffers.
const BIG: usize = if cfg!(miri) {
    16 * 1024
} else {
    8 * 1024 * 1024
};

/// A 1 MiB block; 1 KiB under Miri.
const MIB: usize = if cfg!(miri) { 1024 } else { 1024 * 1024 };

// ----- blocks and reuse ----------------------------------------------------

#[test]
fn basic_usage() {
    let mut arena = MemoryArena::new(2);
    let allocator = arena.allocator();
    let x = allocator.alloc([0usize; 16]);
    for (i, v) in x.iter_mut().enumerate() {
        *v = i;
    }
    for (i, v) in x.iter().enumerate() {
        assert_eq!(*v, i);
    }
}

#[test]
fn buffer_reuse() {
    let mut arena = MemoryArena::new(2);
    let addr_a = {
        let allocator = arena.allocator();
        let x = allocator.alloc([0usize; 16]);
        for (i, v) in x.iter_mut().enumerate() {
            *v = i;
        }
        for (i, v) in x.iter().enumerate() {
            assert_eq!(*v, i);
        }
        x.as_ptr() as usize
    };
    let addr_b = {
        let allocator = arena.allocator();
        let x = allocator.alloc([0usize; 32]);
        for (i, v) in x.iter_mut().enumerate() {
            *v = i * 2;
        }
        for (i, v) in x.iter().enumerate() {
            assert_eq!(*v, i * 2);
        }
        x.as_ptr() as usize
    };
    assert_eq!(addr_a, addr_b);
    assert_eq!(arena.block_count(), 1);
}

/// A value bigger than a block, built in place (never on the stack), gets
/// its own block.
#[test]
fn on_demand_alloc() {
    let mut arena = MemoryArena::with_block_size(MIB);
    let addr_a = {
        let allocator = arena.allocator();
        let x = allocator.alloc([0u32; 32]);
        for (i, v) in x.iter_mut().enumerate() {
            *v = i as u32;
        }
        for (i, v) in x.iter().enumerate() {
            assert_eq!(*v, i as u32);
        }
        x.as_ptr() as usize
    };
    let addr_b = {
        let allocator = arena.allocator();
        let x = allocator.alloc_with(|| [0u32; 128]);
        for (i, v) in x.iter_mut().enumerate() {
            *v = i as u32;
        }
        for (i, v) in x.iter().enumerate() {
            assert_eq!(*v, i as u32);
        }
        x.as_ptr() as usize
    };
    let addr_c = {
        let allocator = arena.allocator();
        // `[0u8; 1024 * 1024 + 512]`, built in place (not on the stack).
        let y: &mut [u8; MIB + 512] = allocator
            .alloc_slice_fill_copy(MIB + 512, 0u8)
            .try_into()
            .unwrap();
        assert!(y.iter().all(|&b| b == 0));
        y.as_ptr() as usize
    };
    assert_eq!(addr_a, addr_b);
    assert_ne!(addr_a, addr_c);
    assert_ne!(addr_b, addr_c);
    // The big value got a dedicated block; the standard block stayed.
    assert_eq!(arena.block_count(), 2);
}

#[repr(align(256))]
#[derive(Copy, Clone)]
struct FatAlignment {
    vals: [f32; 8],
}

#[test]
fn fat_align_struct() {
    assert_eq!(mem::align_of::<FatAlignment>(), 256);
    let mut arena = MemoryArena::new(1);
    let allocator = arena.allocator();
    let a = allocator.alloc([FatAlignment { vals: [0f32; 8] }; 4]);
    assert_eq!(a.len(), 4);
    assert_eq!(a.as_ptr() as usize % mem::align_of::<FatAlignment>(), 0);

    let b = allocator.alloc([0u8; 128]);

    let c = allocator.alloc(FatAlignment { vals: [1f32; 8] });
    assert_eq!(
        c as *const FatAlignment as usize % mem::align_of::<FatAlignment>(),
        0
    );
    // The bump goes up: `c` is the next 256-aligned address after `b`.
    assert_eq!(c as *const FatAlignment as usize - b.as_ptr() as usize, 256);
    assert_eq!(c.vals, [1f32; 8]);
    assert!(a.iter().all(|f| f.vals == [0f32; 8]));
}

#[test]
fn placement_alloc() {
    let mut arena = MemoryArena::new(16);
    let allocator = arena.allocator();
    let b = allocator.alloc([0u8; 8 * 1024]);
    assert_eq!(b.len(), 8 * 1024);
    let big = allocator.alloc_slice_fill_copy(BIG, 7u8);
    assert!(big.iter().all(|&x| x == 7));
}

/// An 8 MiB buffer, which would overflow the stack if it were built there
/// first, built on a thread with a 256 KiB stack.
#[test]
fn eight_mib_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let mut arena = MemoryArena::new(2);
            let alloc = arena.allocator();
            let bytes: &mut [u8] = alloc.alloc_slice_fill_copy(BIG, 0u8);
            bytes[BIG - 1] = 1;
            assert_eq!(bytes.iter().map(|&b| b as usize).sum::<usize>(), 1);
            let words = alloc.alloc_slice_fill_with(BIG / 8, |i| i as u64);
            assert_eq!(words[BIG / 8 - 1], (BIG / 8 - 1) as u64);
            let raw = alloc.alloc_uninit_slice::<u32>(BIG / 4);
            for (i, slot) in raw.iter_mut().enumerate() {
                slot.write(i as u32);
            }
            assert_eq!(alloc.stats().live_bytes, 3 * BIG);
        })
        .unwrap()
        .join()
        .unwrap();
}

trait Eval {
    fn eval(&self, rhs: i32) -> i32;
}

#[derive(Copy, Clone)]
struct Add(i32);
impl Eval for Add {
    fn eval(&self, rhs: i32) -> i32 {
        self.0 + rhs
    }
}

#[derive(Copy, Clone)]
struct Subtract {
    x: i32,
}
impl Eval for Subtract {
    fn eval(&self, rhs: i32) -> i32 {
        self.x - rhs
    }
}

#[derive(Copy, Clone)]
struct Clamp {
    lo: i32,
    hi: i32,
}
impl Eval for Clamp {
    fn eval(&self, rhs: i32) -> i32 {
        rhs.clamp(self.lo, self.hi)
    }
}

#[derive(Copy, Clone)]
struct ShiftLeft;
impl Eval for ShiftLeft {
    fn eval(&self, rhs: i32) -> i32 {
        rhs << 1
    }
}

/// Not `Copy`, and needs dropping: stored, and dropped with its scope.
struct Named(String);
impl Eval for Named {
    fn eval(&self, rhs: i32) -> i32 {
        self.0.len() as i32 + rhs
    }
}

#[test]
fn trait_objects() {
    let mut arena = MemoryArena::new(2);
    let allocator = arena.allocator();
    let add: &dyn Eval = allocator.alloc(Add(4));
    let sub: &dyn Eval = allocator.alloc(Subtract { x: 2 });
    let shl: &dyn Eval = allocator.alloc(ShiftLeft);
    let clamp: &dyn Eval = allocator.alloc(Clamp { lo: -2, hi: 3 });
    let named: &dyn Eval = allocator.alloc(Named("four".into()));

    assert_eq!(add.eval(5), 4 + 5);
    assert_eq!(add.eval(sub.eval(8)), 2 - 8 + 4);
    assert_eq!(shl.eval(1), 1 << 1);
    assert_eq!(clamp.eval(4), 3);
    assert_eq!(clamp.eval(0), 0);
    assert_eq!(clamp.eval(-10), -2);
    assert_eq!(named.eval(1), 5);

    // A slice of trait objects pointing into the same scope.
    let all: &[&dyn Eval] = allocator.alloc_slice_copy(&[add, sub, shl, clamp, named]);
    // ((((1 + 4) -> 2 - 5) << 1) clamped to -2) + 4
    assert_eq!(all.iter().fold(1, |acc, e| e.eval(acc)), 2);
}

#[test]
fn dynamic_slice() {
    let mut arena = MemoryArena::new(2);
    let allocator = arena.allocator();
    let x = allocator.alloc_slice_fill_copy(16, 0usize);
    for (i, v) in x.iter_mut().enumerate() {
        *v = i;
    }
    let y = allocator.alloc_slice_fill_with(16, |i| i);
    for (i, v) in x.iter().enumerate() {
        assert_eq!(*v, i);
    }
    for (i, v) in y.iter().enumerate() {
        assert_eq!(*v, i);
    }
    assert_eq!(
        x.as_ptr() as usize + mem::size_of::<usize>() * 16,
        y.as_ptr() as usize
    );
}

// ----- the rest of the API ---------------------------------------------------

#[test]
fn slices_strings_and_uninit() {
    let mut arena = MemoryArena::with_block_size(4096);
    let scope = arena.allocator();
    let words = ["bsdf", "lobe", "ray"].map(String::from);
    let cloned = scope.alloc_slice_clone(&words);
    cloned[0].push('!');
    assert_eq!(cloned, ["bsdf!", "lobe", "ray"]);
    assert_eq!(words[0], "bsdf");
    let s = scope.alloc_str("héllo");
    assert_eq!(s, "héllo");
    let copied = scope.alloc_slice_copy(&[1u16, 2, 3]);
    copied[1] = 20;
    assert_eq!(copied, [1, 20, 3]);
    let u = scope.alloc_uninit::<[u64; 4]>();
    let u = u.write([9; 4]);
    assert_eq!(u.iter().sum::<u64>(), 36);
    let v = scope.try_alloc_with(|| vec![1, 2]).unwrap();
    v.push(3);
    assert_eq!(*v, [1, 2, 3]);
    assert_eq!(*scope.try_alloc(5u8).unwrap(), 5);
    assert_eq!(*scope.try_alloc_copy(6u8).unwrap(), 6);
    assert_eq!(scope.try_alloc_str("x").unwrap(), "x");
    assert_eq!(scope.try_alloc_slice_copy(&[1, 2]).unwrap(), [1, 2]);
    assert_eq!(
        scope.try_alloc_slice_clone(&words[1..]).unwrap(),
        ["lobe", "ray"]
    );
    assert_eq!(scope.try_alloc_slice_fill_copy(3, 'z').unwrap(), ['z'; 3]);
    assert_eq!(
        scope.try_alloc_slice_fill_with(3, |i| i * i).unwrap(),
        [0, 1, 4]
    );
    assert_eq!(scope.try_alloc_uninit_slice::<u8>(3).unwrap().len(), 3);
    scope.try_alloc_uninit::<u128>().unwrap().write(1);
}

#[repr(align(8192))]
struct Page([u8; 100]);

#[test]
fn alignment_larger_than_a_block_is_honoured() {
    let mut arena = MemoryArena::with_block_size(4096);
    for _ in 0..3 {
        let scope = arena.allocator();
        let small = scope.alloc(1u8);
        let p = scope.alloc(Page([3; 100]));
        assert_eq!(p as *const Page as usize % 8192, 0);
        assert_eq!(p.0[99], 3);
        let q = scope.alloc_with(|| Page([4; 100]));
        assert_eq!(q as *const Page as usize % 8192, 0);
        assert_eq!(*small, 1);
        let zst = scope.alloc([0u64; 0]);
        assert_eq!(zst.as_ptr() as usize % align_of::<u64>(), 0);
    }
    // One standard block plus two dedicated ones, reused every round.
    assert_eq!(arena.block_count(), 3);
}

#[test]
fn zero_block_size_gives_every_request_its_own_block() {
    let mut arena = MemoryArena::with_block_size(0);
    let scope = arena.allocator();
    let a = scope.alloc(1u32);
    let b = scope.alloc(2u32);
    assert_eq!((*a, *b), (1, 2));
    drop(scope);
    assert_eq!(arena.block_count(), 2);
}

#[test]
#[should_panic(expected = "allocation size overflows isize::MAX")]
fn overflowing_slice_panics_with_a_message() {
    let mut arena = MemoryArena::new(1);
    let scope = arena.allocator();
    scope.alloc_slice_fill_copy(usize::MAX / 4, 0u64);
}

#[test]
#[should_panic(expected = "allocation size overflows isize::MAX")]
fn overflowing_fill_with_panics_before_calling_the_closure() {
    let mut arena = MemoryArena::new(1);
    let scope = arena.allocator();
    scope.alloc_slice_fill_with(usize::MAX / 2, |_| -> u16 { unreachable!() });
}

#[test]
fn overflowing_sizes_are_errors_with_try() {
    let mut arena = MemoryArena::with_block_size(1024);
    let scope = arena.allocator();
    let before = scope.stats();
    assert_eq!(
        scope
            .try_alloc_slice_fill_copy(usize::MAX / 4, 0u64)
            .unwrap_err(),
        AllocError::CapacityOverflow
    );
    assert_eq!(
        scope
            .try_alloc_slice_fill_with(usize::MAX / 2, |_| -> String { unreachable!() })
            .unwrap_err(),
        AllocError::CapacityOverflow
    );
    assert_eq!(
        scope.try_alloc_uninit_slice::<u32>(usize::MAX).unwrap_err(),
        AllocError::CapacityOverflow
    );
    // Nothing was lost: the scope is as it was and still works.
    assert_eq!(scope.stats(), before);
    assert_eq!(*scope.alloc(3u8), 3);
}

#[test]
#[cfg_attr(miri, ignore = "Miri reports huge allocations instead of failing them")]
// 2^46 bytes fit no 64-bit address space; a 32-bit one has no size that
// fits `isize` and is sure to fail.
#[cfg(target_pointer_width = "64")]
fn global_allocator_failure_is_an_error_with_try() {
    let mut arena = MemoryArena::new(1);
    let scope = arena.allocator();
    let err = scope
        .try_alloc_slice_fill_copy(1usize << 46, 0u8)
        .unwrap_err();
    assert!(matches!(err, AllocError::OutOfMemory { .. }), "{err:?}");
    // The largest layout there is, over-aligned: its block (padding
    // included) still fits `isize::MAX`, so the global allocator says no.
    let layout = std::alloc::Layout::from_size_align(isize::MAX as usize - 4095, 4096).unwrap();
    let err = scope.try_alloc_layout(layout).unwrap_err();
    assert!(matches!(err, AllocError::OutOfMemory { .. }), "{err:?}");
    assert_eq!(*scope.alloc(4u8), 4);
}

#[test]
fn reset_and_shrink_release_blocks() {
    let mut arena = MemoryArena::with_block_size(1024);
    {
        let scope = arena.allocator();
        for _ in 0..10 {
            scope.alloc_slice_fill_copy(700, 1u8);
        }
        scope.alloc_slice_fill_copy(5000, 1u8);
    }
    assert_eq!(arena.block_count(), 11);
    assert_eq!(arena.stats().reserved_bytes, 10 * 1024 + 5000);
    arena.reset();
    assert_eq!(arena.block_count(), 1);
    assert_eq!(arena.stats().reserved_bytes, 1024);
    arena.shrink_to_fit();
    assert_eq!(arena.block_count(), 0);
    assert_eq!(arena.stats(), SpaceStats::new(0, 0));
    // Still usable after releasing everything.
    let scope = arena.allocator();
    assert_eq!(scope.alloc_str("again"), "again");
    assert_eq!(scope.stats().live_bytes, 8);
    assert_eq!(scope.stats().reserved_bytes, 1024);
}

#[test]
fn stats_count_live_and_reserved_bytes() {
    let mut arena = MemoryArena::with_block_size(4096);
    let scope = arena.allocator();
    assert_eq!(scope.stats(), SpaceStats::new(0, 0));
    // Sizes round up to 8 bytes, so the cursor never needs alignment work
    // for ordinary types.
    scope.alloc(1u8);
    scope.alloc(2u32);
    assert_eq!(scope.stats(), SpaceStats::new(16, 4096));
    scope.alloc([0u8; 16]);
    assert_eq!(scope.stats(), SpaceStats::new(32, 4096));
    assert!(format!("{scope:?}").contains("live_bytes: 32"));
    drop(scope);
    assert_eq!(arena.stats(), SpaceStats::new(0, 4096));
    assert!(format!("{arena:?}").contains("block_count: 1"));
}

#[test]
fn arena_moves_between_threads() {
    let mut arena = MemoryArena::with_block_size(1024);
    arena.allocator().alloc(1u64);
    let arena = std::thread::spawn(move || {
        let mut arena = arena;
        assert_eq!(*arena.allocator().alloc(2u64), 2);
        arena
    })
    .join()
    .unwrap();
    assert_eq!(arena.block_count(), 1);
}

// ----- allocator-api2 collections --------------------------------------------

#[test]
fn allocator_api2_vec_lives_in_a_scope() {
    let mut arena = MemoryArena::with_block_size(1 << 16);
    let scope = arena.allocator();
    let mut v = allocator_api2::vec::Vec::new_in(&scope);
    let n = if cfg!(miri) { 200u32 } else { 1000 };
    for i in 0..n {
        v.push(i);
    }
    // Growing the most recent allocation happens in place: only the final
    // capacity (plus nothing else) is in use.
    assert_eq!(scope.stats().live_bytes, v.capacity() * 4);
    assert_eq!(v.iter().sum::<u32>(), (n - 1) * n / 2);
    v.truncate(10);
    v.shrink_to_fit();
    assert_eq!(scope.stats().live_bytes, 40);
    drop(v);
    assert_eq!(scope.stats().live_bytes, 0);

    // Two vectors growing in turn copy (neither is always last), still right.
    let mut a = allocator_api2::vec::Vec::new_in(&scope);
    let mut b = allocator_api2::vec::Vec::new_in(&scope);
    for i in 0..300u64 {
        a.push(i);
        b.push(String::from("s"));
    }
    assert_eq!(a.iter().sum::<u64>(), 299 * 300 / 2);
    assert!(b.iter().all(|s| s == "s"));
    let boxed = allocator_api2::boxed::Box::new_in([5u8; 32], &scope);
    assert_eq!(boxed[31], 5);
}

#[test]
fn hashbrown_map_lives_in_a_scope() {
    const N: u32 = if cfg!(miri) { 60 } else { 500 };
    let mut arena = MemoryArena::with_block_size(1 << 16);
    for _ in 0..3 {
        let scope = arena.allocator();
        let mut map = hashbrown::HashMap::new_in(&scope);
        for i in 0..N {
            map.insert(i, i.to_string());
        }
        for i in (0..N).step_by(2) {
            assert_eq!(map.remove(&i), Some(i.to_string()));
        }
        assert_eq!(map.len() as u32, N / 2);
        assert_eq!(map[&1], "1");
        let mut set = hashbrown::HashSet::new_in(&scope);
        set.extend(map.keys().copied());
        assert!(set.contains(&(N - 1)));
    }
    assert!(arena.block_count() >= 1);
    let blocks = arena.block_count();
    {
        let scope = arena.allocator();
        let mut map = hashbrown::HashMap::new_in(&scope);
        map.extend((0..N).map(|i| (i, i)));
    }
    assert_eq!(
        arena.block_count(),
        blocks,
        "steady state allocates nothing"
    );
}

#[test]
fn scope_allocator_grows_zeroed_in_place() {
    use allocator_api2::alloc::{Allocator, Layout};
    let mut arena = MemoryArena::with_block_size(1024);
    let scope = arena.allocator();
    let alloc = &scope;
    let l16 = Layout::from_size_align(16, 8).unwrap();
    let l64 = Layout::from_size_align(64, 8).unwrap();
    let p = alloc.allocate_zeroed(l16).unwrap().cast::<u8>();
    // SAFETY: `p` holds 16 bytes from `allocate_zeroed`; it is grown from the
    // layout it was allocated with and read within its new size.
    unsafe {
        p.as_ptr().write_bytes(0xAB, 16);
        let q = alloc.grow_zeroed(p, l16, l64).unwrap().cast::<u8>();
        assert_eq!(q, p, "the last allocation grows in place");
        let bytes = std::slice::from_raw_parts(q.as_ptr(), 64);
        assert!(bytes[..16].iter().all(|&b| b == 0xAB));
        assert!(bytes[16..].iter().all(|&b| b == 0));
        // A stricter alignment than the pointer has means a copy.
        let l_big = Layout::from_size_align(32, 512).unwrap();
        let r = alloc.shrink(q, l64, l_big);
        let r = r.unwrap().cast::<u8>();
        assert_eq!(r.as_ptr() as usize % 512, 0);
        assert_eq!(*r.as_ptr(), 0xAB);
        alloc.deallocate(r, l_big);
    }
}

#[test]
fn a_default_arena_allocates_nothing_until_a_scope_asks() {
    #[derive(Default)]
    struct Frame {
        scratch: MemoryArena,
    }
    let mut frame = Frame::default();
    assert_eq!(frame.scratch.stats().reserved_bytes, 0);
    {
        let scope = frame.scratch.allocator();
        assert_eq!(*scope.alloc(7u32), 7);
    }
    assert_eq!(
        frame.scratch.stats().reserved_bytes,
        1 << 20,
        "one 1 MiB block"
    );
    let taken = std::mem::take(&mut frame.scratch);
    assert_eq!(taken.block_count(), 1);
    assert_eq!(frame.scratch.block_count(), 0);
}
