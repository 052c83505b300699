//! An interpreter heap in a compacting region.
//!
//! A tiny Lisp-like machine allocates cons cells and numbers in an
//! [`Arena`]. Its *roots* (the environment) are a struct of items; cells
//! reference each other through items stored inside the region, which the
//! compactor rewrites through `Managed::visit_refs`. Every few hundred
//! steps the machine drops the garbage it made and compacts: the whole
//! environment is tokenized in one call and redeemed after, and the free
//! space ends up in one block at the end of the region.
//!
//! Run with `cargo run --example region_scene`.

use managed::prelude::*;

/// A heap value: a number or a pair of heap values.
#[derive(Managed, Rebrand)]
enum Value<'a> {
    Num(i64),
    Pair(Item<'a, Value<'a>>, Item<'a, Value<'a>>),
}

/// The machine's roots: named lists.
#[derive(Managed, Rebrand)]
struct Env<'a> {
    lists: Vec<(u32, Item<'a, Value<'a>>)>,
    steps: u64,
}

/// Sums the numbers of a list.
fn sum(v: &Value<'_>) -> i64 {
    match v {
        Value::Num(n) => *n,
        Value::Pair(car, cdr) => sum(car) + sum(cdr),
    }
}

/// Length of a list (pairs along the `cdr`).
fn len(v: &Value<'_>) -> usize {
    match v {
        Value::Num(_) => 0,
        Value::Pair(_, cdr) => 1 + len(cdr),
    }
}

pub(crate) fn main() -> Result<(), AllocError> {
    make_guard!(guard);
    let (mut arena, mut state) = Arena::<'_, 0>::with_capacity(guard, 256 << 10);
    let mut env = Env {
        lists: Vec::new(),
        steps: 0,
    };
    for round in 0..4u32 {
        // Build lists; every other one is garbage right away.
        for k in 0..40u32 {
            let mut list = arena.alloc(&state, Value::Num(0))?;
            for n in 1..=(k % 10 + 1) as i64 {
                let num = arena.alloc(&state, Value::Num(n))?;
                list = arena.alloc(&state, Value::Pair(num, list))?;
                env.steps += 1;
            }
            if k % 2 == 0 {
                env.lists.push((round * 100 + k, list));
            }
        }
        // Drop the oldest half of the roots.
        let keep = env.lists.len() / 2;
        env.lists.drain(..env.lists.len() - keep);
        let before = arena.detailed_stats();

        make_guard!(compact);
        let token = arena.tokenize_all(&compact, env);
        let compacting = arena.compact(&compact, state);
        env = token.redeem(&arena);
        state = arena.finish(compact, compacting);

        let after = arena.detailed_stats();
        let total: i64 = env.lists.iter().map(|(_, l)| sum(l)).sum();
        let cells: usize = env.lists.iter().map(|(_, l)| 2 * len(l) + 1).sum();
        assert_eq!(after.live_objects, cells);
        println!(
            "round {round}: {} roots, {cells} cells, checksum {total}, {} steps\n  before: {before}\n  after:  {after}",
            env.lists.len(),
            env.steps,
        );
    }
    Ok(())
}
