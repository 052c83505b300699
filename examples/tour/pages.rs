//! Tour section: pages and page headers.

use managed::prelude::*;

/// A header kept at the front of every page.
#[derive(Debug, Default)]
struct PageInfo {
    /// How many times something on this page was touched.
    touches: u32,
}

pub(crate) fn run() {
    println!("== Pages: size-aligned pages with a header on each");
    let mut pages: PageList<PageInfo> = PageList::new();
    for _ in 0..3 {
        pages.push_back(PageInfo::default());
    }
    println!(
        "   {} pages of {} bytes, payload {} bytes each from offset {}",
        pages.len(),
        pages.page_size().get(),
        pages.payload_len(),
        pages.payload_offset()
    );
    // Find a header from an address inside the page: mask + ownership check.
    let inside: *const u8 = pages.payload(2).unwrap()[1000].as_ptr();
    pages.header_for_mut(inside).unwrap().touches += 1;
    println!(
        "   header of page 2 after a touch: {:?}",
        pages.header(2).unwrap()
    );
    let foreign = 0u8;
    println!(
        "   header_for(a stack variable) = {:?}",
        pages.header_for(&foreign).map(|h| h.touches)
    );
    println!("   stats: {}", pages.stats());
}
