//! From measurements to tables: which rows are ours, which are peers, and
//! how they pair up.
//!
//! # The naming rule
//!
//! - A **group** is `<family>/<workload>`, where `<family>` is the name of
//!   the bench file that measures it (`uniform`, `contiguous`, `region`,
//!   `heap`, `multisize`, `drop_arena`, `hot`, `scoped`). A size sweep is
//!   `<family>/<workload>/sweep`, with rows `BenchmarkId::new(<row>, n)`
//!   for `n` live values and `Throughput::Elements` set to the operations
//!   per iteration (so the report can show time per operation).
//! - A **row** is named after what it measures: ours start with `managed`
//!   or with a type or function of this crate (`UniformPool`,
//!   `ContiguousUniformPool::map`, `Proxy::with`, `tokenize_all+compact`);
//!   a peer's row is named after the peer (`slab`, `DenseSlotMap::get`,
//!   `VecDeque`, `bumpalo`, `Box`, `memcpy_live_bytes` for a copy of the
//!   live bytes, the floor a moving collector is compared with). Rows whose
//!   name starts with `harness` measure the harness alone and pair with
//!   nothing.
//! - A row may carry a qualifier before its name (`total/managed::heap`
//!   against `total/gc-arena`) or a number after it (`Forward::get/1000`
//!   against `&u64 (bumpalo)/1000`): rows pair up within one group when
//!   their qualifier and number (or `BenchmarkId` parameter) match.
//!
//! Groups that do not start with a family's name are assigned the family
//! of the bench file that produced them when the report ran it.

use std::collections::BTreeMap;

use super::results::Measurement;

/// The first path segment of a row's name that makes it ours.
const OURS: &[&str] = &[
    "managed",
    "PageList",
    "UniformPool",
    "UniformPageDeque",
    "UniformPageQueue",
    "UniformPageStack",
    "SecondaryMap",
    "ContiguousUniformPool",
    "Proxy",
    "SimpleProxy",
    "PoolRef",
    "PoolRefMut",
    "Arena",
    "Forward",
    "Token",
    "tokenize",
    "tokenize_all",
    "tokenize_each",
    "tokenize_boxed",
    "MultisizePageDeque",
    "MultisizePageQueue",
    "MultisizePageStack",
    "MultisizePool",
    "DropArena",
    "PoolBox",
    "PoolRc",
    "MemoryArena",
    "ArenaScope",
    "scoped",
    "Heap",
];

/// Which side of a comparison a row is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This crate.
    Ours,
    /// A peer crate, std, or a baseline such as a memcpy.
    Peer,
    /// The harness alone: shown, never paired.
    Harness,
}

/// The side of a row named `name` (see the module docs).
#[must_use]
pub fn side(name: &str) -> Side {
    let head: String = name
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let first = head.split("::").next().unwrap_or("");
    if first == "harness" {
        Side::Harness
    } else if OURS.contains(&first) {
        Side::Ours
    } else {
        Side::Peer
    }
}

/// A row's name split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowName {
    /// Segments before the name (`total` in `total/managed::heap`).
    pub qualifier: String,
    /// The name proper.
    pub name: String,
    /// The number after the name, or the `BenchmarkId` parameter.
    pub param: Option<String>,
}

impl RowName {
    /// Splits the row of `m`.
    #[must_use]
    pub fn of(m: &Measurement) -> Self {
        let mut parts: Vec<&str> = m.function.split('/').collect();
        let mut param = m.value.clone();
        if param.is_none() && parts.len() > 1 {
            let last = parts[parts.len() - 1];
            if !last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) {
                param = Some(last.to_owned());
                parts.pop();
            }
        }
        let name = parts.pop().unwrap_or("").to_owned();
        RowName {
            qualifier: parts.join("/"),
            name,
            param,
        }
    }
}

/// One line of a family's table: our row against one peer row (either may
/// be missing when a group has nothing to compare it with).
#[derive(Debug, Clone)]
pub struct Line {
    /// The workload: the group without its family, with the qualifier and
    /// parameter of the rows.
    pub workload: String,
    /// Our measurement.
    pub ours: Option<Measurement>,
    /// The peer's.
    pub peer: Option<Measurement>,
}

impl Line {
    /// `ours / peer` of the medians, with the spread the confidence
    /// intervals allow: `(median, low, high)`.
    #[must_use]
    pub fn ratio(&self) -> Option<(f64, f64, f64)> {
        let (o, p) = (self.ours.as_ref()?, self.peer.as_ref()?);
        if p.median <= 0.0 || p.lower <= 0.0 {
            return None;
        }
        Some((o.median / p.median, o.lower / p.upper, o.upper / p.lower))
    }
}

/// One row of a sweep: its name, its side, and its points (live count,
/// nanoseconds per operation), sorted by live count.
pub type Series = (String, Side, Vec<(u64, f64)>);

/// A size sweep: per row, time per operation against the live count.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The group.
    pub group: String,
    /// `(row name, side, points (live count, ns per operation))`, sorted by
    /// live count.
    pub series: Vec<Series>,
}

/// Everything the report shows of one family.
#[derive(Debug, Clone, Default)]
pub struct Family {
    /// The family (the bench file's name).
    pub name: String,
    /// The comparison lines, group by group.
    pub lines: Vec<Line>,
    /// The size sweeps.
    pub sweeps: Vec<Sweep>,
}

/// The family of `group`: its first segment when that is one of
/// `families`, else what `assigned` says (the bench that produced it),
/// else `other`.
#[must_use]
pub fn family_of(group: &str, families: &[String], assigned: &BTreeMap<String, String>) -> String {
    let first = group.split('/').next().unwrap_or("");
    if families.iter().any(|f| f == first) {
        first.to_owned()
    } else if let Some(f) = assigned.get(group) {
        f.clone()
    } else {
        "other".to_owned()
    }
}

/// Builds the families, in the order of `families` (then `other`), from
/// `measurements`.
#[must_use]
pub fn build(
    measurements: &[Measurement],
    families: &[String],
    assigned: &BTreeMap<String, String>,
) -> Vec<Family> {
    let mut by_group: BTreeMap<&str, Vec<&Measurement>> = BTreeMap::new();
    for m in measurements {
        by_group.entry(&m.group).or_default().push(m);
    }
    let mut out: BTreeMap<String, Family> = BTreeMap::new();
    for (group, rows) in by_group {
        let family = family_of(group, families, assigned);
        let entry = out.entry(family.clone()).or_insert_with(|| Family {
            name: family.clone(),
            ..Family::default()
        });
        let workload = group
            .strip_prefix(&family)
            .and_then(|w| w.strip_prefix('/'))
            .unwrap_or(group);
        if group.ends_with("/sweep") {
            entry.sweeps.push(sweep(group, &rows));
        } else {
            entry.lines.extend(lines(workload, &rows));
        }
    }
    let mut ordered = Vec::new();
    for name in families.iter().map(String::as_str).chain(["other"]) {
        if let Some(f) = out.remove(name) {
            ordered.push(f);
        }
    }
    ordered.extend(out.into_values());
    ordered
}

/// The lines of one group.
fn lines(workload: &str, rows: &[&Measurement]) -> Vec<Line> {
    // Per (qualifier, parameter): our rows, and the others.
    type Bucket<'a> = (Vec<&'a Measurement>, Vec<&'a Measurement>);
    let mut buckets: BTreeMap<(String, Option<String>), Bucket<'_>> = BTreeMap::new();
    for &m in rows {
        let name = RowName::of(m);
        let bucket = buckets.entry((name.qualifier, name.param)).or_default();
        match side(&name.name) {
            Side::Ours => bucket.0.push(m),
            Side::Peer | Side::Harness => bucket.1.push(m),
        }
    }
    let mut out = Vec::new();
    for ((qualifier, param), (ours, others)) in buckets {
        let mut label = workload.to_owned();
        for part in [Some(qualifier), param].into_iter().flatten() {
            if !part.is_empty() {
                label.push('/');
                label.push_str(&part);
            }
        }
        let peers: Vec<&Measurement> = others
            .iter()
            .copied()
            .filter(|m| side(&RowName::of(m).name) == Side::Peer)
            .collect();
        let line = |ours: Option<&Measurement>, peer: Option<&Measurement>| Line {
            workload: label.clone(),
            ours: ours.cloned(),
            peer: peer.cloned(),
        };
        for &o in &ours {
            if peers.is_empty() {
                out.push(line(Some(o), None));
            }
            for &p in &peers {
                out.push(line(Some(o), Some(p)));
            }
        }
        // Rows with nothing of ours to compare with (and the harness).
        for &p in &others {
            if ours.is_empty() || side(&RowName::of(p).name) == Side::Harness {
                out.push(line(None, Some(p)));
            }
        }
    }
    out
}

/// The series of one sweep group.
fn sweep(group: &str, rows: &[&Measurement]) -> Sweep {
    let mut series: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for &m in rows {
        let name = RowName::of(m);
        let Some(n) = name.param.as_deref().and_then(|p| p.parse::<u64>().ok()) else {
            continue;
        };
        let per_op = m.median / m.elements.unwrap_or(1).max(1) as f64;
        series.entry(name.name).or_default().push((n, per_op));
    }
    let mut series: Vec<Series> = series
        .into_iter()
        .map(|(name, mut points)| {
            points.sort_by_key(|p| p.0);
            let side = side(&name);
            (name, side, points)
        })
        .collect();
    series.sort_by_key(|s| (s.1 != Side::Ours, s.0.clone()));
    Sweep {
        group: group.to_owned(),
        series,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn m(group: &str, function: &str, value: Option<&str>, median: f64) -> Measurement {
        Measurement {
            group: group.into(),
            function: function.into(),
            value: value.map(Into::into),
            elements: value.map(|v| v.parse().unwrap()),
            median,
            lower: median * 0.9,
            upper: median * 1.1,
            path: PathBuf::new(),
        }
    }

    #[test]
    fn sides_follow_the_first_path_segment() {
        for ours in [
            "UniformPool",
            "managed::hot::Pool",
            "ContiguousUniformPool alloc + drop(Proxy)",
            "PoolBox",
            "tokenize_all+compact+redeem",
            "Forward::get",
            "scoped",
        ] {
            assert_eq!(side(ours), Side::Ours, "{ours}");
        }
        for peer in [
            "slab",
            "onsen::Pool",
            "Box",
            "Box (global allocator)",
            "DenseSlotMap::get",
            "memcpy_live_payload",
            "&u64 (bumpalo)",
            "VecDeque<Box<dyn>>",
        ] {
            assert_eq!(side(peer), Side::Peer, "{peer}");
        }
        assert_eq!(side("harness only (no allocator)"), Side::Harness);
    }

    #[test]
    fn row_names_split_qualifiers_and_numbers() {
        let q = RowName::of(&m("heap/gcbench", "total/managed::heap", None, 1.0));
        assert_eq!(
            (q.qualifier.as_str(), q.name.as_str(), q.param),
            ("total", "managed::heap", None)
        );
        let n = RowName::of(&m("region/forward_deref", "&u64 (bumpalo)/1000", None, 1.0));
        assert_eq!(
            (n.name.as_str(), n.param.as_deref()),
            ("&u64 (bumpalo)", Some("1000"))
        );
        let s = RowName::of(&m("uniform/churn/sweep", "slab", Some("10000"), 1.0));
        assert_eq!(s.param.as_deref(), Some("10000"));
    }

    #[test]
    fn rows_pair_within_qualifier_and_number() {
        let rows = [
            m("heap/gcbench", "total/managed::heap", None, 50.0),
            m("heap/gcbench", "total/gc-arena", None, 100.0),
            m("heap/gcbench", "collections/managed::heap", None, 10.0),
            m("heap/gcbench", "collections/gc-arena", None, 40.0),
            m("region/forward_deref", "Forward::get/10", None, 3.0),
            m("region/forward_deref", "&u64 (bumpalo)/10", None, 2.0),
            m("region/forward_deref", "&u64 (bumpalo)/99", None, 2.0),
            m("multisize/raw", "MultisizePool", None, 2.0),
            m("multisize/raw", "harness only (no allocator)", None, 1.0),
        ];
        let families: Vec<String> = ["heap", "region", "multisize"].map(String::from).into();
        let built = build(&rows, &families, &BTreeMap::new());
        assert_eq!(
            built.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["heap", "region", "multisize"]
        );
        let heap = &built[0].lines;
        assert_eq!(heap.len(), 2);
        assert_eq!(heap[0].workload, "gcbench/collections");
        assert_eq!(heap[0].ratio().unwrap().0, 0.25);
        assert_eq!(heap[1].ratio().unwrap().0, 0.5);
        let (r, lo, hi) = heap[1].ratio().unwrap();
        assert!(lo < r && r < hi);
        let region = &built[1].lines;
        assert_eq!(region.len(), 2);
        assert_eq!(region[0].ratio().unwrap().0, 1.5);
        assert!(region[1].ours.is_none(), "a peer row with nothing of ours");
        let multi = &built[2].lines;
        assert_eq!(multi.len(), 2);
        assert!(multi[0].peer.is_none() && multi[1].ours.is_none());
    }

    #[test]
    fn groups_without_a_family_prefix_take_the_assigned_one() {
        let rows = [
            m("pool_churn_10k_live", "UniformPool", None, 2.0),
            m("misc", "x", None, 1.0),
        ];
        let families = vec!["uniform".to_owned()];
        let assigned = BTreeMap::from([("pool_churn_10k_live".to_owned(), "uniform".to_owned())]);
        let built = build(&rows, &families, &assigned);
        assert_eq!(built[0].name, "uniform");
        assert_eq!(built[0].lines[0].workload, "pool_churn_10k_live");
        assert_eq!(built[1].name, "other");
    }

    #[test]
    fn sweeps_are_time_per_operation_ours_first() {
        let rows = [
            m("uniform/churn/sweep", "slab", Some("1000"), 5000.0),
            m("uniform/churn/sweep", "UniformPool", Some("10000"), 80000.0),
            m("uniform/churn/sweep", "UniformPool", Some("1000"), 6000.0),
        ];
        let built = build(&rows, &["uniform".to_owned()], &BTreeMap::new());
        let sweep = &built[0].sweeps[0];
        assert_eq!(sweep.series[0].0, "UniformPool");
        assert_eq!(sweep.series[0].2, [(1000, 6.0), (10000, 8.0)]);
        assert_eq!(sweep.series[1].2, [(1000, 5.0)]);
    }
}
