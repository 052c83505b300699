//! Contract 7: the reference from `get_uninit` must be gone before
//! `assume_init`; for one slot the borrow checker enforces it.
use managed::prelude::*;

fn main() {
    let pool: Pool<u32> = Pool::new();
    let mut u = pool.alloc_uninit();
    unsafe {
        let r = u.get_uninit();
        r.write(1);
        u.assume_init();
        r.write(2);
    }
    pool.leak();
}
