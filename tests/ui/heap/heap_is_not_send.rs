//! A heap is not `Send`: its objects are of any type (`Rc`s included).
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

fn main() {
    let heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    assert_send(heap);
}
