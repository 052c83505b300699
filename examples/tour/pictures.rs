//! Tour section: pictures — memory you can see. Every container draws its
//! memory (`memory_map()`): a region before and after compaction, a heap
//! before and after a collection, pools before and after `shrink_to_fit`,
//! a multisize deque. Each picture is written as an SVG under
//! `target/tour/` and printed in the terminal.
//!
//! `cargo run --release --example tour -- --docs` also writes the picture
//! the README shows, `docs/pictures/region.svg`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use managed::memory_map::{MemoryMap, svg_of};
use managed::prelude::*;

/// Columns of the terminal renderings.
const WIDTH: usize = 78;

/// Where the pictures go: `target/tour/` of the workspace (or of
/// `CARGO_TARGET_DIR`).
fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("tour")
}

/// Writes `maps` as one SVG named `name` (and, with `docs`, a copy under
/// `docs/pictures/`), prints them in the terminal and says where the file
/// is.
fn show(name: &str, maps: &[&MemoryMap], docs: bool) {
    let colour = std::io::stdout().is_terminal();
    for map in maps {
        let text = if colour {
            map.to_ansi(WIDTH)
        } else {
            map.to_terminal(WIDTH)
        };
        print!("{text}");
    }
    let svg = svg_of(maps);
    let mut dirs = vec![out_dir()];
    if docs {
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/pictures"));
    }
    for dir in dirs {
        let path = dir.join(format!("{name}.svg"));
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &svg)) {
            Ok(()) => println!("  -> wrote {}", path.display()),
            Err(e) => println!("  -> could not write {}: {e}", path.display()),
        }
    }
    println!();
}

pub(crate) fn run() {
    println!("== pictures: memory you can see (memory_map)");
    let docs = std::env::args().any(|a| a == "--docs");
    region(docs);
    heap();
    contiguous();
    uniform();
    multisize();
}

/// A region where most objects died, before and after compaction.
fn region(docs: bool) {
    make_guard!(guard);
    let (mut arena, state) = Arena::<0>::with_capacity(guard, 4 << 10);
    let mut kept = Vec::new();
    for i in 0..64u64 {
        // 32-byte objects, every other one kept; 16-byte ones in between
        // every third step, all dropped.
        let item = arena.alloc_with(&state, || [i; 4]).expect("fits");
        if i % 2 == 0 {
            kept.push(item);
        }
        if i % 3 == 0 {
            drop(arena.alloc_with(&state, || [i; 2]).expect("fits"));
        }
    }
    let mut before = arena.memory_map();
    before.set_title("region Arena: before compact (dead objects are free holes)");
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, kept);
    let state = arena.compact(&compact, state);
    let kept = token.redeem(&arena);
    let state = arena.finish(compact, state);
    let mut after = arena.memory_map();
    after.set_title("region Arena: after compact (the survivors slid down)");
    show("region", &[&before, &after], docs);
    drop((kept, state));
}

/// A tree node of the heap's picture.
#[derive(Managed)]
struct Node<'gc> {
    children: Vec<Gc<'gc, Node<'gc>>>,
    weight: [f64; 2],
}

/// A heap of small trees, most of them dropped, before and after a
/// collection.
fn heap() {
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> =
        Heap::with_chunk_size(4 << 10, |_| Vec::new());
    heap.mutate(|mc, roots| {
        for t in 0..40 {
            let leaves = (0..3)
                .map(|i| {
                    let weight = [f64::from(t), f64::from(i)];
                    Gc::new(
                        mc,
                        Node {
                            children: Vec::new(),
                            weight,
                        },
                    )
                })
                .collect();
            let tree = Gc::new(
                mc,
                Node {
                    children: leaves,
                    weight: [0.0; 2],
                },
            );
            // One tree in four stays reachable.
            if t % 4 == 0 {
                roots.push(tree);
            }
        }
    });
    let mut before = heap.memory_map();
    before.set_title("Heap: before collect (garbage is not known until a trace)");
    let stats = heap.collect();
    let weight = heap.mutate(|mc, roots| {
        let leaves = roots.iter().flat_map(|&tree| mc[tree].children.clone());
        leaves.map(|leaf| mc[leaf].weight[1]).sum::<f64>()
    });
    assert_eq!(weight, 30.0, "the surviving trees are intact");
    let mut after = heap.memory_map();
    after.set_title(format!(
        "Heap: after collect ({} objects live, {} bytes freed)",
        stats.live_objects, stats.freed_bytes
    ));
    show("heap", &[&before, &after], false);
}

/// A contiguous pool that grew to 3000 particles and lost most of them,
/// before and after `shrink_to_fit`.
fn contiguous() {
    let mut pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..3000u32)
        .map(|i| pool.insert([f32::from(i as u16); 8]))
        .collect();
    for key in &keys[600..] {
        let _ = pool.remove(*key);
    }
    let mut before = pool.memory_map();
    before.set_title("ContiguousUniformPool<[f32; 8]>: 600 of 3000 left, before shrink_to_fit");
    pool.shrink_to_fit();
    let mut after = pool.memory_map();
    after.set_title("ContiguousUniformPool<[f32; 8]>: after shrink_to_fit");
    show("contiguous", &[&before, &after], false);
}

/// A uniform pool with holes everywhere, before and after `shrink_to_fit`
/// (only pages with no value at all can go back: values never move).
fn uniform() {
    let mut pool = UniformPool::new();
    let keys: Vec<_> = (0..1200u64).map(|i| pool.insert([i; 3])).collect();
    for (i, key) in keys.iter().enumerate() {
        if i < 500 || i % 3 != 0 {
            let _ = pool.remove(*key);
        }
    }
    let mut before = pool.memory_map();
    before.set_title("UniformPool<[u64; 3]>: before shrink_to_fit");
    pool.shrink_to_fit();
    let mut after = pool.memory_map();
    after.set_title("UniformPool<[u64; 3]>: after shrink_to_fit (empty pages went back)");
    show("uniform_pool", &[&before, &after], false);
}

/// Values of several types and sizes in one deque of 4 KiB pages, one of
/// them too large for a page.
fn multisize() {
    let mut deque: MultisizePageDeque<dyn std::fmt::Debug> =
        MultisizePageDeque::with_page_size(PageSize::new(4096).expect("a page size"));
    for i in 0..60u32 {
        match i % 4 {
            0 => deque.push_back(i as u8, coercion!()),
            1 => deque.push_back([u64::from(i); 6], coercion!()),
            2 => deque.push_front(format!("value {i}"), coercion!()),
            _ => deque.push_back((i, f64::from(i)), coercion!()),
        }
    }
    deque.push_back([0u8; 3000], coercion!());
    let mut map = deque.memory_map();
    map.set_title("MultisizePageDeque<dyn Debug>: records of five types, one large value");
    show("multisize_deque", &[&map], false);
}
