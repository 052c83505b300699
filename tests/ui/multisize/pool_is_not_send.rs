//! A `MultisizePool` of any values may hold an `Rc`, so it cannot move to
//! another thread; a `MultisizePool<SendValues>` holds only `Send` values,
//! and is not `Sync` (it lends `&T` of values that need not be `Sync`).
use managed::prelude::*;

fn needs_send<T: Send>(_: T) {}
fn needs_sync<T: Sync>(_: &T) {}

fn main() {
    let mut any = MultisizePool::new();
    any.insert(std::rc::Rc::new(1));
    needs_send(any);

    let sendable: MultisizePool<SendValues> = MultisizePool::default();
    needs_sync(&sendable);
    needs_send(sendable);
}
