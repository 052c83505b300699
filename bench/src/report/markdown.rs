//! Writing BENCHMARKS.md: the machine and the moment, one table and one
//! picture per family, the sweeps, and the hand-written notes.

use std::fmt::Write;

use super::plot;
use super::tables::{Family, Line, RowName, Side, Sweep};

/// What the header of the report states.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// CPU model.
    pub cpu: String,
    /// Cores available.
    pub cores: usize,
    /// Load average when the run started.
    pub load_start: String,
    /// Load average when the run ended.
    pub load_end: String,
    /// When the report was written.
    pub date: String,
    /// `rustc -V`.
    pub rustc: String,
    /// The command that wrote the report.
    pub command: String,
    /// Whether criterion ran with shorter times.
    pub quick: bool,
    /// Benches that failed to run (their older results, if any, are shown).
    pub failures: Vec<String>,
    /// Where the pictures go, relative to the report (`docs/bench`).
    pub pictures: String,
    /// When the report was rewritten from earlier results (`--no-run`):
    /// the date and command of that rewrite.
    pub rewritten: Option<(String, String)>,
}

/// The title of a family's section.
#[must_use]
pub fn title(family: &str) -> String {
    match family {
        "uniform" => "Uniform containers",
        "contiguous" => "ContiguousUniformPool",
        "region" => "Compacting region",
        "heap" => "Managed heap",
        "multisize" => "Multisize containers",
        "drop_arena" => "DropArena",
        "hot" => "Hot pool",
        "scoped" => "Scoped arena",
        other => other,
    }
    .to_owned()
}

/// A time in nanoseconds with three significant digits and a unit.
#[must_use]
pub fn time(ns: f64) -> String {
    let (v, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// A file name for a picture of `name`.
fn file_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').to_owned() + ".svg"
}

/// A table cell: pipes escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The report and its pictures (file name under `ctx.pictures`, SVG).
/// `notes(family)` returns the hand-written notes of a family (and
/// `notes("overview")` those shown under the header).
#[must_use]
pub fn render(
    families: &[Family],
    ctx: &Context,
    notes: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<(String, String)>) {
    let mut md = String::new();
    let mut pictures = Vec::new();
    md.push_str("# Benchmarks\n\n");
    md.push_str(
        "<!-- Written by bench/src/bin/bench_report.rs: do not edit by hand. The \
         notes under each table come from bench/notes/<family>.md. -->\n\n",
    );
    md.push_str(
        "Every figure here is written by the report program from criterion's \
         results, each of our rows measured in the same run as its peers. A ratio \
         is `ours / peer` of the median time per iteration: below 1.0, ours is \
         faster. The spread is the range the two medians' 95% confidence \
         intervals allow.\n\n",
    );
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| machine | {}, {} cores |", cell(&ctx.cpu), ctx.cores);
    let _ = writeln!(
        md,
        "| load average (1, 5, 15 min) | {} at the start, {} at the end |",
        ctx.load_start, ctx.load_end
    );
    let _ = writeln!(md, "| date | {} |", ctx.date);
    let _ = writeln!(md, "| compiler | {} |", cell(&ctx.rustc));
    let _ = writeln!(md, "| command | `{}` |", cell(&ctx.command));
    let mode = if ctx.quick {
        "quick (criterion's shorter warm-up and measurement times: indicative only)"
    } else {
        "full (criterion's settings of each bench)"
    };
    let _ = writeln!(md, "| mode | {mode} |");
    if let Some((date, command)) = &ctx.rewritten {
        let _ = writeln!(
            md,
            "| report | rewritten from these results on {date} by `{}` |",
            cell(command)
        );
    }
    md.push('\n');
    if !ctx.failures.is_empty() {
        let _ = writeln!(
            md,
            "**Benches that failed in this run** (older results, where there are \
             any, are shown): {}.\n",
            ctx.failures.join(", ")
        );
    }
    if let Some(text) = notes("overview") {
        md.push_str(text.trim_end());
        md.push_str("\n\n");
    }

    for family in families {
        let _ = writeln!(
            md,
            "## {} (`cargo bench -p managed-bench --bench {}`)\n",
            title(&family.name),
            family.name
        );
        if let Some(svg) = plot::ratios(family) {
            let name = file_name(&family.name);
            let _ = writeln!(
                md,
                "![{} against its peers: ours / peer per workload]({}/{name})\n",
                title(&family.name),
                ctx.pictures
            );
            pictures.push((name, svg));
        }
        if !family.lines.is_empty() {
            table(&mut md, &family.lines);
        }
        for sweep in &family.sweeps {
            sweep_table(&mut md, sweep, ctx, &mut pictures);
        }
        if family.lines.is_empty() && family.sweeps.is_empty() {
            md.push_str("_No results in this run._\n\n");
        }
        if let Some(text) = notes(&family.name) {
            md.push_str(text.trim_end());
            md.push_str("\n\n");
        }
    }
    (md.trim_end().to_owned() + "\n", pictures)
}

/// The comparison table of a family.
fn table(md: &mut String, lines: &[Line]) {
    md.push_str("| workload | ours | peer | ours / peer | spread | ours | peer |\n");
    md.push_str("|---|---|---|---|---|---|---|\n");
    for line in lines {
        let name = |m: &Option<super::results::Measurement>| {
            m.as_ref().map_or("—".to_owned(), |m| {
                format!("`{}`", cell(&RowName::of(m).name))
            })
        };
        let t = |m: &Option<super::results::Measurement>| {
            m.as_ref().map_or("—".to_owned(), |m| time(m.median))
        };
        let (ratio, spread) = match line.ratio() {
            Some((r, lo, hi)) if r <= 1.0 => (format!("**{r:.2}**"), format!("{lo:.2}–{hi:.2}")),
            Some((r, lo, hi)) => (format!("{r:.2}"), format!("{lo:.2}–{hi:.2}")),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {ratio} | {spread} | {} | {} |",
            cell(&line.workload),
            name(&line.ours),
            name(&line.peer),
            t(&line.ours),
            t(&line.peer)
        );
    }
    md.push('\n');
}

/// A sweep's table (time per operation at each live count) and picture.
fn sweep_table(
    md: &mut String,
    sweep: &Sweep,
    ctx: &Context,
    pictures: &mut Vec<(String, String)>,
) {
    let _ = writeln!(
        md,
        "### `{}`: time per operation by live count\n",
        sweep.group
    );
    if let Some(svg) = plot::sweep(sweep) {
        let name = file_name(&sweep.group);
        let _ = writeln!(
            md,
            "![{}: ns per operation against live values]({}/{name})\n",
            sweep.group, ctx.pictures
        );
        pictures.push((name, svg));
    }
    let mut counts: Vec<u64> = sweep
        .series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let ours = sweep.series.iter().find(|s| s.1 == Side::Ours);
    let peer = sweep.series.iter().find(|s| s.1 == Side::Peer);
    md.push_str("| live |");
    for (name, _, _) in &sweep.series {
        let _ = write!(md, " `{}` |", cell(name));
    }
    if ours.is_some() && peer.is_some() {
        md.push_str(" ours / peer |");
    }
    md.push_str("\n|---|");
    for _ in &sweep.series {
        md.push_str("---|");
    }
    if ours.is_some() && peer.is_some() {
        md.push_str("---|");
    }
    md.push('\n');
    let at =
        |s: &(String, Side, Vec<(u64, f64)>), n: u64| s.2.iter().find(|p| p.0 == n).map(|p| p.1);
    for n in counts {
        let _ = write!(md, "| {n} |");
        for s in &sweep.series {
            let _ = write!(md, " {} |", at(s, n).map_or("—".to_owned(), time));
        }
        if let (Some(o), Some(p)) = (ours, peer) {
            match (at(o, n), at(p, n)) {
                (Some(a), Some(b)) if b > 0.0 => {
                    let _ = write!(md, " {:.2} |", a / b);
                }
                _ => md.push_str(" — |"),
            }
        }
        md.push('\n');
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::report::results::Measurement;
    use crate::report::tables::build;

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
    fn times_have_three_digits() {
        assert_eq!(time(12.345), "12.3 ns");
        assert_eq!(time(1234.0), "1.23 µs");
        assert_eq!(time(123_456_789.0), "123 ms");
        assert_eq!(time(2.5e9), "2.50 s");
        assert_eq!(file_name("uniform/churn/sweep"), "uniform-churn-sweep.svg");
    }

    #[test]
    fn a_report_has_the_machine_the_tables_the_sweeps_and_the_notes() {
        let rows = [
            m("uniform/churn", "UniformPool", None, 50.0),
            m("uniform/churn", "slab", None, 100.0),
            m("uniform/churn/sweep", "UniformPool", Some("1000"), 5000.0),
            m("uniform/churn/sweep", "slab", Some("1000"), 10000.0),
            m("uniform/churn/sweep", "UniformPool", Some("10000"), 80000.0),
            m("uniform/churn/sweep", "slab", Some("10000"), 40000.0),
        ];
        let families: Vec<String> = ["uniform", "hot"].map(String::from).into();
        let built = build(&rows, &families, &BTreeMap::new());
        let ctx = Context {
            cpu: "Test CPU".into(),
            cores: 2,
            load_start: "0.10 0.20 0.30".into(),
            load_end: "1.00 1.00 1.00".into(),
            date: "2026-12-03 20:00 UTC".into(),
            rustc: "rustc 1.95.0".into(),
            command: "cargo run --release -p managed-bench --bin bench_report".into(),
            quick: true,
            failures: vec!["hot".into()],
            pictures: "docs/bench".into(),
            rewritten: Some((
                "2026-12-04 08:00 UTC".into(),
                "bench_report -- --no-run".into(),
            )),
        };
        let notes = |family: &str| (family == "uniform").then(|| "Why pages.\n".to_owned());
        let (md, pictures) = render(&built, &ctx, &notes);
        assert!(md.contains("| machine | Test CPU, 2 cores |"));
        assert!(md.contains("0.10 0.20 0.30 at the start, 1.00 1.00 1.00 at the end"));
        assert!(md.contains("quick"));
        assert!(md.contains("| report | rewritten from these results on 2026-12-04 08:00 UTC by `bench_report -- --no-run` |"));
        assert!(
            md.contains(
                "failed in this run** (older results, where there are any, are shown): hot"
            )
        );
        assert!(md.contains(
            "| churn | `UniformPool` | `slab` | **0.50** | 0.41–0.61 | 50.0 ns | 100 ns |"
        ));
        assert!(md.contains("![Uniform containers against its peers"));
        assert!(md.contains("| 1000 | 5.00 ns | 10.0 ns | 0.50 |"));
        assert!(md.contains("| 10000 | 8.00 ns | 4.00 ns | 2.00 |"));
        assert!(md.contains("Why pages."));
        assert!(md.find("Why pages.").unwrap() > md.find("| 10000 |").unwrap());
        let names: Vec<&str> = pictures.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["uniform.svg", "uniform-churn-sweep.svg"]);
        assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
    }
}
