//! A reference handed out by `peek` cannot be used after a pop removed
//! the value.
use managed::prelude::*;
use std::fmt::Debug;

fn main() {
    let mut queue: MultisizePageQueue<dyn Debug> = MultisizePageQueue::new();
    queue.push(1u32, coercion!());
    let first = queue.peek().unwrap();
    queue.drop_front();
    println!("{first:?}");
}
