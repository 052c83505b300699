//! A tour of the managed crate: each section shows one family of containers
//! and prints its space statistics; the last one draws their memory, in
//! the terminal and as SVG pictures under `target/tour/`.

mod contiguous;
mod drop_arena;
mod heap;
mod hot;
mod multisize;
mod pages;
mod pictures;
mod region;
mod scoped;
mod uniform;

fn main() {
    pages::run();
    uniform::run();
    contiguous::run();
    region::run();
    heap::run();
    multisize::run();
    drop_arena::run();
    hot::run();
    scoped::run();
    pictures::run();
}
