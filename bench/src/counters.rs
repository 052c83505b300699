//! Event counts per operation from callgrind: the counting program
//! (`bench_counters`) runs one benchmark at a time under
//! `valgrind --tool=callgrind` with its cache and branch simulators, and
//! reads back the cost of the benchmark's timed work.
//!
//! Every timed run of every CPU-timed benchmark goes through one
//! never-inlined function, `support::measured` (`bench/benches/support`),
//! so the timed work is exactly the inclusive cost of that function's
//! calls, whoever calls it, and the setup around the runs is left out.
//! This module parses callgrind's output format for those calls
//! ([`measured_cost`]) and describes the workloads the program counts
//! ([`WORKLOADS`]).
//!
//! Callgrind counts, it does not time: the instructions are exact and
//! repeatable whatever the machine is doing; the cache misses and branch
//! mispredictions come from its simulators (two cache levels, no hardware
//! prefetcher, a simple branch predictor), the same model for ours and the
//! peers.

use std::collections::HashMap;

/// The name of the function that every timed run goes through, as
/// callgrind prints it (`<bench>::support::measured`).
pub const MEASURED: &str = "::support::measured";

/// The events callgrind reports with `--cache-sim=yes --branch-sim=yes`,
/// summed over the calls of the timed function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cost {
    /// Calls of the timed function (timed sections run).
    pub calls: u64,
    /// Each event's inclusive total, by callgrind's event name (`Ir`,
    /// `Dr`, `D1mr`, ...).
    pub events: HashMap<String, u64>,
}

impl Cost {
    /// The total of an event (0 when the output did not list it).
    #[must_use]
    pub fn get(&self, event: &str) -> u64 {
        self.events.get(event).copied().unwrap_or(0)
    }

    /// The total of several events.
    #[must_use]
    pub fn sum(&self, events: &[&str]) -> u64 {
        events.iter().map(|e| self.get(e)).sum()
    }
}

/// Sums the calls and the inclusive costs of every call to a function
/// whose name ends with `suffix` in a callgrind output file's text.
///
/// In callgrind's format, a call appears in its caller's block as a
/// `cfn=` line naming the callee (`cfn=(id) name` the first time an id is
/// used, `cfn=(id)` after that: names are compressed), then a `calls=`
/// line with the count, then one cost line: a position followed by the
/// inclusive event counts, in the order of the `events:` header, trailing
/// zeros omitted.
///
/// # Errors
///
/// When the text has no `events:` header, or a cost line after a `calls=`
/// line is not numbers.
pub fn measured_cost(text: &str, suffix: &str) -> Result<Cost, String> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut events: Option<Vec<String>> = None;
    let mut cost = Cost::default();
    let mut callee_matches = false;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(header) = line.strip_prefix("events:") {
            events = Some(header.split_whitespace().map(str::to_owned).collect());
        } else if let Some(rest) = line
            .strip_prefix("cfn=")
            .or_else(|| line.strip_prefix("fn="))
        {
            let name = resolve(&mut names, rest);
            callee_matches = line.starts_with("cfn=") && name.ends_with(suffix);
        } else if let Some(rest) = line.strip_prefix("calls=") {
            let matched = std::mem::take(&mut callee_matches);
            let cost_line = lines.next().ok_or("a calls= line ends the file")?;
            if !matched {
                continue;
            }
            let events = events
                .as_ref()
                .ok_or("no events: header before the calls")?;
            let count: u64 = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("bad calls= line `{line}`"))?;
            cost.calls += count;
            // The first field is the position (a number, `+n`, `-n` or `*`).
            for (event, value) in events.iter().zip(cost_line.split_whitespace().skip(1)) {
                let value: u64 = value
                    .parse()
                    .map_err(|_| format!("bad cost line `{cost_line}`"))?;
                *cost.events.entry(event.clone()).or_default() += value;
            }
        }
    }
    if events.is_none() {
        return Err("no events: header: not a callgrind output file".to_owned());
    }
    Ok(cost)
}

/// Resolves a compressed name (`(id) name` defines it, `(id)` refers to
/// it; a name without an id stands for itself).
fn resolve(names: &mut HashMap<String, String>, spec: &str) -> String {
    match spec.strip_prefix('(').and_then(|s| s.split_once(')')) {
        Some((id, name)) => {
            let name = name.trim();
            if name.is_empty() {
                names.get(id).cloned().unwrap_or_default()
            } else {
                names.insert(id.to_owned(), name.to_owned());
                name.to_owned()
            }
        }
        None => spec.trim().to_owned(),
    }
}

/// One benchmark row to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// The bench target (`bench/benches/<bench>.rs`).
    pub bench: &'static str,
    /// The criterion id, `group/function[/parameter]`, matched exactly.
    pub id: &'static str,
    /// Timed sections per run: the calls of the timed function that make
    /// up one run of the routine.
    pub sections: u64,
    /// Operations per run, to give the counts per operation.
    pub ops: u64,
    /// Criterion's profiling time for the row, in seconds of the slowed
    /// time under valgrind: long enough for several runs after the first
    /// (which finds cold caches and, in some benchmarks, unwarmed
    /// structures).
    pub seconds: u32,
}

/// The workloads of one comparison, ours first, then the peers and floors
/// it is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// What is compared (a heading).
    pub title: &'static str,
    /// What one operation is.
    pub op: &'static str,
    /// The rows.
    pub rows: &'static [Workload],
    /// The row the others are divided by (the peer of the target).
    pub peer: usize,
}

const fn row(bench: &'static str, id: &'static str, sections: u64, ops: u64) -> Workload {
    Workload {
        bench,
        id,
        sections,
        ops,
        seconds: 2,
    }
}

/// A row whose single run takes many seconds under valgrind.
const fn long_row(bench: &'static str, id: &'static str, sections: u64, ops: u64) -> Workload {
    Workload {
        seconds: 60,
        ..row(bench, id, sections, ops)
    }
}

/// Live objects of the contiguous walks and lookups (1M, a third removed).
const CONTIGUOUS_LIVE: u64 = 1_000_000 - 1_000_000 / 3;
/// Surviving items of the 64 MiB compaction (8-byte items, half live).
const REGION_LIVE: u64 = (64 << 20) / 8 / 2;

/// The comparisons the counting program runs: the workloads whose time
/// ratio to their peer is still above its target, each against that peer
/// and the floors measured beside it.
pub const WORKLOADS: &[Comparison] = &[
    Comparison {
        title: "UniformPool churn, 10k live",
        op: "step (remove a random key, insert)",
        rows: &[
            row("uniform", "pool_churn_10k_live/UniformPool", 1, 10_000),
            row("uniform", "pool_churn_10k_live/slab", 1, 10_000),
            row("uniform", "pool_churn_10k_live/slotmap::SlotMap", 1, 10_000),
            row(
                "uniform",
                "pool_churn_10k_live/slab (16-byte keys: index + owner id, checked)",
                1,
                10_000,
            ),
            row(
                "uniform",
                "pool_churn_10k_live/slab + 32 register-only instructions per step",
                1,
                10_000,
            ),
        ],
        peer: 1,
    },
    Comparison {
        title: "UniformPool churn, 1M live",
        op: "step (remove a random key, insert)",
        rows: &[
            row(
                "uniform",
                "uniform/pool_churn/sweep/UniformPool/1000000",
                1,
                10_000,
            ),
            row(
                "uniform",
                "uniform/pool_churn/sweep/slab/1000000",
                1,
                10_000,
            ),
        ],
        peer: 1,
    },
    Comparison {
        title: "Region compaction, 64 MiB of u64, half live",
        op: "surviving item",
        rows: &[
            long_row(
                "region",
                "region/compact_64mib/tokenize_all+compact+redeem",
                3,
                REGION_LIVE,
            ),
            long_row(
                "region",
                "region/compact_64mib/tokenize_each+compact+redeem",
                3,
                REGION_LIVE,
            ),
            long_row(
                "region",
                "region/compact_64mib/plain loops: check + rewrite the handles, slide the area",
                1,
                REGION_LIVE,
            ),
            long_row(
                "region",
                "region/compact_64mib/memcpy_live_payload",
                1,
                REGION_LIVE,
            ),
        ],
        peer: 3,
    },
    Comparison {
        title: "ContiguousUniformPool walk, 1M objects minus a third",
        op: "object",
        rows: &[
            row(
                "contiguous",
                "contiguous/map_1M_minus_third/ContiguousUniformPool::map",
                1,
                CONTIGUOUS_LIVE,
            ),
            row(
                "contiguous",
                "contiguous/map_1M_minus_third/DenseSlotMap::values_mut",
                1,
                CONTIGUOUS_LIVE,
            ),
            row(
                "contiguous",
                "contiguous/map_1M_minus_third/Vec::iter_mut",
                1,
                CONTIGUOUS_LIVE,
            ),
        ],
        peer: 1,
    },
    Comparison {
        title: "ContiguousUniformPool lookups in random order, 1M objects minus a third",
        op: "lookup",
        rows: &[
            row(
                "contiguous",
                "contiguous/random_access_1M_minus_third/Proxy::with",
                1,
                CONTIGUOUS_LIVE,
            ),
            row(
                "contiguous",
                "contiguous/random_access_1M_minus_third/PoolRef::get (keys, one borrow for all lookups)",
                1,
                CONTIGUOUS_LIVE,
            ),
            row(
                "contiguous",
                "contiguous/random_access_1M_minus_third/DenseSlotMap::get",
                1,
                CONTIGUOUS_LIVE,
            ),
        ],
        peer: 2,
    },
    Comparison {
        title: "ContiguousUniformPool churn, 100k live",
        op: "remove + insert",
        rows: &[
            row(
                "contiguous",
                "contiguous/churn_100k_live_10k_remove_insert/ContiguousUniformPool alloc + drop(Proxy)",
                1,
                10_000,
            ),
            row(
                "contiguous",
                "contiguous/churn_100k_live_10k_remove_insert/ContiguousUniformPool insert + remove(key)",
                1,
                10_000,
            ),
            row(
                "contiguous",
                "contiguous/churn_100k_live_10k_remove_insert/DenseSlotMap insert + remove",
                1,
                10_000,
            ),
        ],
        peer: 2,
    },
    Comparison {
        title: "Multisize queue of trait objects, fresh heap",
        op: "push + pop",
        rows: &[
            row(
                "multisize",
                "multisize/queue_push_pop/MultisizePageQueue",
                1,
                1000,
            ),
            row(
                "multisize",
                "multisize/queue_push_pop/VecDeque<Box<dyn>>",
                1,
                1000,
            ),
        ],
        peer: 1,
    },
    Comparison {
        title: "MultisizePool raw blocks",
        op: "free + allocate",
        rows: &[
            row(
                "multisize",
                "multisize/pool_alloc_churn/MultisizePool",
                1,
                4096,
            ),
            row(
                "multisize",
                "multisize/pool_alloc_churn/std::alloc (global allocator)",
                1,
                4096,
            ),
            row(
                "multisize",
                "multisize/pool_alloc_churn/harness only (no allocator)",
                1,
                4096,
            ),
        ],
        peer: 1,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# callgrind format
version: 1
positions: line
events: Ir Dr Dw D1mr
summary: 1000 100 50 7

fn=(1) main
0 5
cfn=(2) uniform::support::measured
calls=3 0
0 300 30 15 3
cfn=(3) other
calls=1 0
0 9 9 9 9
fn=(4) criterion::warm_up
cfn=(2)
calls=2 0
+2 200 20
fn=(2)
0 500 50 25 5
";

    #[test]
    fn sums_the_calls_and_inclusive_costs_of_the_timed_function_from_every_caller() {
        let cost = measured_cost(SAMPLE, MEASURED).unwrap();
        assert_eq!(cost.calls, 5);
        assert_eq!(cost.get("Ir"), 500);
        assert_eq!(cost.get("Dr"), 50);
        // Omitted trailing zeros count as zeros.
        assert_eq!(cost.get("Dw"), 15);
        assert_eq!(cost.get("D1mr"), 3);
        assert_eq!(cost.sum(&["Dr", "Dw"]), 65);
        assert_eq!(cost.get("Bc"), 0);
    }

    #[test]
    fn a_file_without_the_function_has_no_calls() {
        let cost = measured_cost(SAMPLE, "::nothing").unwrap();
        assert_eq!(cost.calls, 0);
        assert_eq!(cost.get("Ir"), 0);
    }

    #[test]
    fn other_text_is_refused() {
        assert!(measured_cost("hello\n", MEASURED).is_err());
        let bad = "events: Ir\ncfn=(1) a::support::measured\ncalls=1 0\n0 x\n";
        assert!(measured_cost(bad, MEASURED).is_err());
    }

    /// Every row's criterion id is made of a group name and a function
    /// name (and for a sweep a numeric parameter) that its bench's source
    /// spells, so a renamed benchmark fails here rather than at counting
    /// time.
    #[test]
    fn every_workload_names_a_benchmark_of_its_bench() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches");
        for w in WORKLOADS.iter().flat_map(|c| c.rows) {
            let source = std::fs::read_to_string(dir.join(format!("{}.rs", w.bench)))
                .unwrap_or_else(|e| panic!("{}: {e}", w.bench));
            let parts: Vec<&str> = w.id.split('/').collect();
            let found = (1..parts.len()).any(|split| {
                let group = parts[..split].join("/");
                let rest = &parts[split..];
                let parameter_ok = rest[1..].iter().all(|p| p.parse::<u64>().is_ok());
                source.contains(&format!("\"{group}\""))
                    && source.contains(&format!("\"{}\"", rest[0]))
                    && rest.len() <= 2
                    && parameter_ok
            });
            assert!(
                found,
                "`{}` is not a benchmark of benches/{}.rs",
                w.id, w.bench
            );
        }
    }

    #[test]
    fn every_workload_counts_something() {
        for comparison in WORKLOADS {
            assert!(comparison.rows.len() >= 2, "{}", comparison.title);
            assert!(
                comparison.peer < comparison.rows.len(),
                "{}",
                comparison.title
            );
            for w in comparison.rows {
                assert!(w.sections >= 1 && w.ops >= 1, "{}", w.id);
                assert!(w.id.matches('/').count() >= 1, "{}", w.id);
            }
        }
    }
}
