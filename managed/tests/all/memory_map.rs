//! Memory maps of every container family: the spans of each block cover it
//! exactly, blocks do not overlap, the live spans are the live bytes the
//! container's statistics count and the blocks are its reserved bytes; and
//! the maps before and after `shrink_to_fit`, `compact` or `collect` show
//! what those gave back. Random operation programs check the same after
//! every step for the pools and the deque.

use core::alloc::Layout;
use std::fmt::Debug;

use managed::memory_map::{Block, MemoryMap, SpanKind, svg_of};
use managed::prelude::*;
use proptest::prelude::*;

/// Sizes: smaller under Miri, which interprets every step.
const N: usize = if cfg!(miri) { 120 } else { 5000 };

/// Checks the shape of `map` (see [`check_layout`]), and that the
/// renderings show every block.
fn check_shape(map: &MemoryMap) {
    check_layout(map);
    // The renderings are safe code over the map: not worth Miri's time.
    if cfg!(miri) {
        return;
    }
    let text = map.to_terminal(72);
    let bars = text.lines().filter(|l| l.contains('│')).count();
    assert_eq!(bars, map.blocks().len().min(MemoryMap::MAX_ROWS));
    assert!(map.to_svg().contains(&map.caption()));
}

/// Checks the layout of `map`: spans consecutive from offset 0, non-empty,
/// neighbours of different kinds; blocks with a known address disjoint.
fn check_layout(map: &MemoryMap) {
    for block in map.blocks() {
        let mut at = 0;
        let mut last = None;
        for span in block.spans() {
            assert_eq!(span.offset, at, "{}: a gap or an overlap", block.label());
            assert!(span.len > 0, "{}: an empty span", block.label());
            assert_ne!(Some(span.kind), last, "{}: unmerged spans", block.label());
            at = span.end();
            last = Some(span.kind);
        }
        assert_eq!(at, block.len());
        assert!(!block.is_empty(), "empty blocks are left out");
    }
    let mut placed: Vec<&Block> = map.blocks().iter().filter(|b| b.address() != 0).collect();
    placed.sort_by_key(|b| b.address());
    for pair in placed.windows(2) {
        assert!(
            pair[0].address() + pair[0].len() <= pair[1].address(),
            "{} overlaps {}",
            pair[0].label(),
            pair[1].label()
        );
    }
    let total: usize = SpanKind::ALL.iter().map(|&k| map.bytes(k)).sum();
    assert_eq!(total, map.reserved_bytes());
}

/// Checks `map` against the container's statistics: live bytes equal, and
/// the blocks are the reserved bytes.
fn check_exact(map: &MemoryMap, stats: SpaceStats) {
    check_shape(map);
    check_stats(map, stats);
}

/// The live bytes and the blocks of `map` are those `stats` counts.
fn check_stats(map: &MemoryMap, stats: SpaceStats) {
    assert_eq!(map.live_bytes(), stats.live_bytes, "{}", map.title());
    assert_eq!(
        map.reserved_bytes(),
        stats.reserved_bytes,
        "{}",
        map.title()
    );
}

/// Every block is `len` bytes.
fn all_blocks(map: &MemoryMap, len: usize) {
    for block in map.blocks() {
        assert_eq!(block.len(), len, "{}", block.label());
    }
}

#[test]
fn page_list_payloads_are_opaque() {
    let mut pages: PageList<[u64; 3]> = PageList::new();
    for i in 0..5 {
        pages.push_back([i; 3]);
    }
    pages.pop_back();
    let map = pages.memory_map();
    check_shape(&map);
    assert_eq!(map.reserved_bytes(), pages.stats().reserved_bytes);
    assert_eq!(map.bytes(SpanKind::Header), pages.stats().live_bytes);
    assert_eq!(map.blocks()[0].spans()[0].kind, SpanKind::Header);
    assert_eq!(map.blocks()[0].bytes(SpanKind::Opaque), pages.payload_len());
    all_blocks(&map, pages.page_size().get());
    // The page popped is kept idle: a free block.
    assert!(map.blocks().iter().any(|b| b.label() == "idle page"));
}

#[test]
fn deque_ends_are_where_the_live_bytes_start_and_stop() {
    let mut deque: UniformPageDeque<u64> =
        UniformPageDeque::with_page_size(PageSize::new(4096).unwrap());
    deque.extend(0..N as u64);
    for _ in 0..N / 3 {
        deque.pop_front();
    }
    deque.push_front(7);
    let map = deque.memory_map();
    check_exact(&map, deque.stats());
    all_blocks(&map, 4096);
    let first = &map.blocks()[0];
    // Free slots before the front element, then live ones.
    let live_at = first
        .spans()
        .iter()
        .find(|s| s.kind == SpanKind::Live)
        .unwrap()
        .offset;
    let slot = first.len() - deque.page_capacity() * 8;
    assert!(live_at > slot, "the front page is partly popped");
    let queue: UniformPageQueue<u16> = (0..N as u16).collect();
    check_exact(&queue.memory_map(), queue.stats());
    assert!(
        queue
            .memory_map()
            .title()
            .starts_with("UniformPageQueue<u16>")
    );
    let stack: UniformPageStack<[u8; 3]> = (0..N).map(|i| [i as u8; 3]).collect();
    check_exact(&stack.memory_map(), stack.stats());
}

#[test]
fn uniform_pool_before_and_after_shrink() {
    let mut pool: UniformPool<u64> = UniformPool::with_page_size(PageSize::new(256).unwrap());
    let keys: Vec<_> = (0..N as u64).map(|i| pool.insert(i)).collect();
    for key in &keys[..N * 9 / 10] {
        pool.remove(*key);
    }
    let before = pool.memory_map();
    check_exact(&before, pool.stats());
    // Every entry has its generation as metadata.
    let entries = before.bytes(SpanKind::Metadata) / 4;
    assert_eq!(entries, pool.capacity());
    pool.shrink_to_fit();
    let after = pool.memory_map();
    check_exact(&after, pool.stats());
    assert!(after.reserved_bytes() < before.reserved_bytes());
    assert_eq!(after.live_bytes(), before.live_bytes());
}

#[test]
fn contiguous_pool_before_and_after_shrink() {
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..N as u64 * 4).map(|i| pool.insert([i; 2])).collect();
    for key in &keys[N..] {
        let _ = pool.remove(*key);
    }
    let before = pool.memory_map();
    check_exact(&before, pool.stats());
    // The objects are dense: one live span at the start of the buffer.
    let objects = &before.blocks()[0];
    assert_eq!(objects.label(), "objects");
    assert_eq!(objects.spans()[0].kind, SpanKind::Live);
    let mut pool = pool;
    pool.shrink_to_fit();
    let after = pool.memory_map();
    check_exact(&after, pool.stats());
    assert!(after.reserved_bytes() < before.reserved_bytes());
    for label in ["objects", "back-pointers", "key table"] {
        assert!(after.blocks().iter().any(|b| b.label() == label), "{label}");
    }
}

#[test]
fn contiguous_map_during_a_borrow_draws_pending_objects_live() {
    let pool = ContiguousUniformPool::new();
    let a = pool.alloc(1u64);
    let b = pool.insert(2u64);
    a.with(|_| {
        assert!(pool.remove_deferred(b)); // deferred: the pool is borrowed
        let map = pool.memory_map();
        check_shape(&map);
        assert_eq!(map.live_bytes(), 16, "the pending object is still stored");
    });
    assert_eq!(pool.memory_map().live_bytes(), 8);
}

#[test]
#[cfg(target_pointer_width = "64")]
fn region_before_and_after_compaction() {
    make_guard!(guard);
    let (mut arena, state) = Arena::<0>::with_capacity(guard, N * 16);
    let mut kept = Vec::new();
    for i in 0..N / 2 {
        let item = arena.allocate::<u64>(&state).unwrap();
        if i % 3 == 0 {
            kept.push(item);
        }
    }
    let before = arena.memory_map();
    check_shape(&before);
    assert_eq!(before.live_bytes(), arena.stats().live_bytes);
    assert_eq!(
        before.live_bytes() + before.bytes(SpanKind::Free),
        arena.capacity()
    );
    // Holes: more than one free span before compaction.
    let region = &before.blocks()[0];
    let holes = region
        .spans()
        .iter()
        .filter(|s| s.kind == SpanKind::Free)
        .count();
    assert!(holes > 1);
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, kept);
    let state = arena.compact(&compact, state);
    let kept = token.redeem(&arena);
    let after = arena.memory_map();
    check_shape(&after);
    assert_eq!(after.live_bytes(), before.live_bytes());
    // After: live bytes in one run, then one free run.
    let spans: Vec<SpanKind> = after.blocks()[0]
        .spans()
        .iter()
        .map(|s| s.kind)
        .filter(|k| matches!(k, SpanKind::Live | SpanKind::Free))
        .collect();
    assert_eq!(spans, [SpanKind::Live, SpanKind::Free]);
    assert_eq!(after.reserved_bytes(), before.reserved_bytes());
    drop(kept);
    let _ = arena.finish(compact, state);
}

#[derive(Managed)]
struct Node<'gc> {
    next: Option<Gc<'gc, Node<'gc>>>,
    payload: [u64; 3],
}

#[test]
fn heap_before_and_after_collection() {
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, root| {
        // Every fifth node is rooted and points at the one rooted before
        // it; the others are garbage.
        let mut rooted = None;
        for i in 0..N as u64 {
            let node = Gc::new(
                mc,
                Node {
                    next: rooted,
                    payload: [i; 3],
                },
            );
            if i % 5 == 0 {
                root.push(node);
                rooted = Some(node);
            }
        }
    });
    let before = heap.memory_map();
    check_exact(&before, heap.stats());
    let collected = heap.collect();
    let after = heap.memory_map();
    check_exact(&after, heap.stats());
    assert_eq!(after.live_bytes(), collected.live_bytes);
    assert_eq!(
        before.live_bytes() - after.live_bytes(),
        collected.freed_bytes
    );
    // The survivors moved, and are intact.
    heap.mutate(|mc, root| {
        let sum: u64 = root.iter().map(|&n| mc[n].payload[2]).sum();
        assert_eq!(sum, (0..N as u64).step_by(5).sum::<u64>());
    });
    let chunk = heap.detailed_stats().chunk_size;
    for block in after
        .blocks()
        .iter()
        .filter(|b| b.label().contains("chunk"))
    {
        assert_eq!(block.len(), chunk);
        assert_eq!(block.spans()[0].kind, SpanKind::Header);
    }
}

#[test]
fn multisize_lists_with_inline_and_large_values() {
    let mut deque: MultisizePageDeque<dyn Debug> = MultisizePageDeque::new();
    for i in 0..N / 10 {
        deque.push_back(i as u8, coercion!());
        deque.push_front([i as u64; 5], coercion!());
        deque.push_back(String::from("x"), coercion!());
    }
    deque.push_back([7u8; 20_000], coercion!());
    let map = deque.memory_map();
    check_exact(&map, deque.stats());
    let large = map
        .blocks()
        .iter()
        .filter(|b| b.label() == "large value")
        .count();
    assert_eq!(large, 1);
    // Each record's header is metadata: at least 16 bytes per record.
    assert!(map.bytes(SpanKind::Metadata) >= 16 * deque.len());
    for _ in 0..N / 10 {
        deque.pop_front_boxed();
    }
    let before = deque.memory_map();
    check_exact(&before, deque.stats());
    deque.shrink_to_fit();
    let after = deque.memory_map();
    check_exact(&after, deque.stats());
    assert!(after.reserved_bytes() < before.reserved_bytes());

    let mut queue: MultisizePageQueue<dyn Debug> = MultisizePageQueue::new();
    let mut stack: MultisizePageStack<dyn Debug> = MultisizePageStack::new();
    for i in 0..N / 10 {
        queue.push((i as u16, i as u32), coercion!());
        stack.push(i as u64, coercion!());
        stack.push((), coercion!());
    }
    check_exact(&queue.memory_map(), queue.stats());
    check_exact(&stack.memory_map(), stack.stats());
}

#[test]
fn multisize_pool_slots_and_large_values() {
    let mut pool = MultisizePool::new();
    let small: Vec<_> = (0..N as u64).map(|i| pool.insert(i)).collect();
    let strings: Vec<_> = (0..N / 4).map(|i| pool.insert(i.to_string())).collect();
    let block = pool.alloc_layout(Layout::from_size_align(100, 4).unwrap());
    let large = pool.insert([0u64; 600]);
    for key in &small[..N * 3 / 4] {
        pool.remove(*key);
    }
    let map = pool.memory_map();
    check_shape(&map);
    assert_eq!(map.reserved_bytes(), pool.stats().reserved_bytes);
    // Whole slots: u64s in 16-byte slots, Strings (24 bytes on 64-bit
    // targets) in 32-byte ones, the 100-byte block in a 128-byte one, the
    // array exactly.
    let string_slot = size_of::<String>().next_power_of_two().max(16);
    let slots = (N - N * 3 / 4) * 16 + strings.len() * string_slot + 128 + 4800;
    assert_eq!(map.live_bytes(), slots);
    assert!(map.live_bytes() >= pool.stats().live_bytes);
    pool.shrink_to_fit();
    let after = pool.memory_map();
    check_shape(&after);
    assert_eq!(after.live_bytes(), slots);
    assert!(after.reserved_bytes() <= map.reserved_bytes());
    assert!(pool.dealloc(block));
    let _ = large;
}

#[test]
fn drop_arena_slots() {
    let arena = &DropArena::new();
    let mut boxes: Vec<_> = (0..N).map(|i| arena.alloc(i as u32)).collect();
    for b in boxes.drain(..N / 2) {
        arena.drop_box(b);
    }
    let map = arena.memory_map();
    check_exact(&map, arena.stats());
    assert_eq!(map.live_bytes(), (N - N / 2) * 4);
    // Abandoned slots still count as taken.
    let leaked = boxes.pop().unwrap();
    drop(leaked);
    check_exact(&arena.memory_map(), arena.stats());
}

#[test]
fn hot_pool_map_reads_no_entry_in_use() {
    let pool: Pool<[u64; 2]> = Pool::new();
    let boxes: Vec<_> = (0..N as u64).map(|i| pool.alloc_box([i; 2])).collect();
    let mut boxes = boxes.into_iter();
    for b in boxes.by_ref().take(N / 2) {
        drop(b);
    }
    let mut rest: Vec<_> = boxes.collect();
    // A mutable borrow of a value stays valid across the map (under Miri:
    // the map reads no byte of an entry in use).
    let value: &mut [u64; 2] = &mut rest[0];
    let map = pool.memory_map();
    value[1] = 99;
    check_exact(&map, pool.stats());
    assert_eq!(map.live_bytes(), (N - N / 2) * 16);
    assert_eq!(rest[0][1], 99);
}

#[test]
fn scoped_arena_between_and_during_scopes() {
    let mut arena = MemoryArena::new(1);
    {
        let scope = arena.allocator();
        for i in 0..N {
            let _ = scope.alloc(i as u64);
        }
        // Larger than a standard block (1 MiB): a dedicated block.
        let big = scope.alloc_slice_copy(&vec![0u8; 2 << 20]);
        assert_eq!(big.len(), 2 << 20);
        let map = scope.memory_map();
        check_shape(&map);
        let stats = scope.stats();
        assert_eq!(map.reserved_bytes(), stats.reserved_bytes);
        assert!(map.live_bytes() <= stats.live_bytes);
        assert!(stats.live_bytes <= map.live_bytes() + map.bytes(SpanKind::Opaque));
        assert!(map.blocks().iter().any(|b| b.label() == "dedicated block"));
    }
    let map = arena.memory_map();
    check_exact(&map, arena.stats());
    assert_eq!(map.bytes(SpanKind::Free), map.reserved_bytes());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "a picture is safe code over the maps: minutes of formatting"
)]
fn before_and_after_in_one_picture() {
    let mut pool = UniformPool::new();
    let keys: Vec<_> = (0..N as u32).map(|i| pool.insert(i)).collect();
    keys[..N - 100].iter().for_each(|&k| _ = pool.remove(k));
    let before = pool.memory_map();
    pool.shrink_to_fit();
    let after = pool.memory_map();
    let svg = svg_of(&[&before, &after]);
    assert_eq!(svg.matches("class=\"title\"").count(), 2);
    assert!(svg.contains(&before.caption()) && svg.contains(&after.caption()));
}

// ---------------------------------------------------------------------------
// Random programs: the map stays exact after every step.
// ---------------------------------------------------------------------------

const OPS: usize = if cfg!(miri) { 16 } else { 200 };

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 200 },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u16),
    Remove(usize),
    Shrink,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u16>().prop_map(Op::Insert),
        4 => any::<usize>().prop_map(Op::Remove),
        1 => Just(Op::Shrink),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pools_and_deque_maps_stay_exact(ops in proptest::collection::vec(op(), 1..OPS)) {
        let mut uniform: UniformPool<u64> = UniformPool::with_page_size(PageSize::new(256).unwrap());
        let mut ukeys = Vec::new();
        let contiguous = ContiguousUniformPool::new();
        let mut ckeys = Vec::new();
        let mut deque: UniformPageDeque<u16> = UniformPageDeque::with_page_size(PageSize::new(256).unwrap());
        let mut multi = MultisizePool::new();
        let mut mkeys = Vec::new();
        for op in ops {
            match op {
                Op::Insert(v) => {
                    ukeys.push(uniform.insert(u64::from(v)));
                    ckeys.push(contiguous.insert([v; 3]));
                    if v % 2 == 0 { deque.push_back(v) } else { deque.push_front(v) }
                    mkeys.push(multi.insert(vec![v; usize::from(v % 40)]));
                }
                Op::Remove(i) if !ukeys.is_empty() => {
                    let i = i % ukeys.len();
                    uniform.remove(ukeys.swap_remove(i));
                    let _ = contiguous.remove(ckeys.swap_remove(i));
                    if i % 2 == 0 { deque.pop_front(); } else { deque.pop_back(); }
                    multi.remove(mkeys.swap_remove(i));
                }
                Op::Remove(_) => {}
                Op::Shrink => {
                    uniform.shrink_to_fit();
                    deque.shrink_to_fit();
                    multi.shrink_to_fit();
                }
            }
            for (map, stats) in [
                (uniform.memory_map(), uniform.stats()),
                (contiguous.memory_map(), contiguous.stats()),
                (deque.memory_map(), deque.stats()),
            ] {
                check_layout(&map);
                check_stats(&map, stats);
            }
            let map = multi.memory_map();
            check_layout(&map);
            prop_assert_eq!(map.reserved_bytes(), multi.stats().reserved_bytes);
            prop_assert!(map.live_bytes() >= multi.stats().live_bytes);
            prop_assert_eq!(map.live_bytes() / 16 * 16, map.live_bytes());
        }
    }
}
