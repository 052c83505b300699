use managed::prelude::*;

fn main() {
    let mut pool: MultisizePool<SendValues> = MultisizePool::default();
    pool.insert(std::rc::Rc::new(1));
}
