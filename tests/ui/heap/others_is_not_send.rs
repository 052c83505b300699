//! `Others` is neither `Send` nor `Sync`: it reads through the token,
//! which stays on its thread.
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> =
        Heap::new(|mc| vec![Gc::new(mc, 1u32), Gc::new(mc, 2u32)]);
    heap.mutate(|mc, items| {
        let (_, others) = mc.split_mut(items[0]);
        assert_send(others);
    });
}
