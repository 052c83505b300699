//! Tour section: multisize — values of different types and sizes in one
//! page container, behind one trait object type, and a free-list pool.

use managed::prelude::*;
use std::fmt::Debug;

trait Shape: Debug {
    fn area(&self) -> f64;
}

#[derive(Debug)]
struct Square(f64);
#[derive(Debug)]
struct Circle {
    r: f64,
}
#[derive(Debug)]
struct Polygon {
    points: [(f64, f64); 6],
}
/// Over-aligned: sits on a 64-byte boundary inside its page.
#[derive(Debug)]
#[repr(align(64))]
struct Aligned(f64);
/// Larger than a page: the large-value path (its own heap block).
struct Raster([u8; 8192]);

impl Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raster({} bytes)", self.0.len())
    }
}

impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}
impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * self.r * self.r
    }
}
impl Shape for Polygon {
    fn area(&self) -> f64 {
        let n = self.points.len();
        (0..n)
            .map(|i| {
                let (a, b) = (self.points[i], self.points[(i + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            .abs()
            / 2.0
    }
}
impl Shape for Aligned {
    fn area(&self) -> f64 {
        self.0
    }
}
impl Shape for Raster {
    fn area(&self) -> f64 {
        self.0.iter().map(|&b| f64::from(b)).sum()
    }
}

pub(crate) fn run() {
    println!("== multisize ==");

    // A queue of shapes of five types and sizes, 8 bytes to 8 KiB.
    let mut queue: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
    queue.push(Square(2.0), coercion!());
    queue.push(Circle { r: 1.0 }, coercion!());
    let hexagon = std::array::from_fn(|i| {
        let a = i as f64 * std::f64::consts::TAU / 6.0;
        (a.cos(), a.sin())
    });
    queue.push(Polygon { points: hexagon }, coercion!());
    queue.push(Aligned(0.5), coercion!());
    queue.push(Raster([1; 8192]), coercion!());
    for shape in &queue {
        let mut name = format!("{shape:?}");
        if name.len() > 36 {
            name.truncate(33);
            name.push_str("...");
        }
        println!("  queue: {name:<36} area {:>8.3}", shape.area());
    }
    println!("  queue stats: {}", queue.stats());
    let square: Option<Square> = queue.pop::<Square>();
    println!("  typed pop of the front as Square: {square:?}");
    println!(
        "  typed pop of the front as Square again: {:?} (it is a Circle)",
        queue.pop::<Square>()
    );
    let circle: Box<dyn Shape> = queue.pop_boxed().unwrap();
    println!("  boxed pop: {circle:?}");
    // The rest, in place: each value is handed to the closure, then dropped.
    let mut areas = Vec::new();
    queue.drain_with(|shape| areas.push(shape.area()));
    println!(
        "  drained in place: {} areas, queue now {} long",
        areas.len(),
        queue.len()
    );

    // A deque walked from both ends through the (prev, next) sizes.
    let mut deque: MultisizePageDeque<dyn Debug> = MultisizePageDeque::new();
    for i in 0..5u8 {
        deque.push_back(i, coercion!());
        deque.push_front(format!("s{i}"), coercion!());
    }
    println!("  deque: {deque:?}");
    println!(
        "  deque backwards: {:?}",
        deque.iter().rev().collect::<Vec<_>>()
    );
    println!("  deque: {} pages, {}", deque.pages(), deque.stats());
    deque.shrink_to_fit();
    println!(
        "  deque after shrink_to_fit: {} page, {}",
        deque.pages(),
        deque.stats()
    );

    // A stack grows downwards in memory: the top record is lowest.
    let mut stack: MultisizePageStack<dyn Debug> = MultisizePageStack::new();
    stack.push(1u16, coercion!());
    stack.push([7u64; 4], coercion!());
    stack.push("top", coercion!());
    let addrs: Vec<usize> = stack
        .iter()
        .map(|v| (v as *const dyn Debug).cast::<u8>() as usize)
        .collect();
    println!("  stack top first: {stack:?}, addresses ascending: {addrs:x?}");
    let info = stack.header_for(stack.peek().unwrap()).unwrap();
    println!("  header_for(top): {info:?}");

    // A pool: any type, any size, values stay put, keys are checked.
    let mut pool = MultisizePool::new();
    let small = pool.insert(5u8);
    let name = pool.insert(String::from("pool"));
    let big = pool.insert([0u64; 1024]);
    println!(
        "  pool: {} values, {:?} {:?} {} words, {}",
        pool.len(),
        pool.get(small),
        pool.get(name),
        pool.get(big).map_or(0, |b| b.len()),
        pool.stats()
    );
    pool.remove(small);
    println!(
        "  after remove, the stale key gives {:?}; another pool's key is refused too: {:?}",
        pool.get(small),
        MultisizePool::new().get(name)
    );
    // Raw memory of any layout from the same size classes: an owning,
    // checked handle, the bytes reached safely through the pool.
    let block = pool.alloc_layout(std::alloc::Layout::from_size_align(100, 32).unwrap());
    pool.bytes_mut(&block)
        .unwrap()
        .fill(std::mem::MaybeUninit::new(0xAB));
    println!(
        "  raw block: {:?}, {} values and blocks, given back: {}",
        block.layout(),
        pool.len(),
        pool.dealloc(block)
    );
    pool.shrink_to_fit();
    println!("  pool after shrink_to_fit: {}", pool.stats());
}
