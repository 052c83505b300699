use managed::prelude::*;

// A parallel walk borrows the deque exclusively, like `iter_mut`.
fn main() {
    let mut deque: UniformPageDeque<u32> = (0..10).collect();
    let first = deque.front().unwrap();
    deque.par_map(|x| *x += 1);
    println!("{first}");
}
