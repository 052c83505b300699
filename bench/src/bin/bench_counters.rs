//! Counts what the benchmarks' timed work executes, under callgrind, and
//! writes COUNTERS.md: instructions, loads and stores, simulated L1d and
//! L2 misses, branches and mispredicted branches per operation, for the
//! workloads that are still slower than their targets and for their
//! peers (`managed_bench::counters::WORKLOADS`).
//!
//! ```text
//! cargo run --release -p managed-bench --bin bench_counters [-- OPTIONS]
//!
//!   --only TEXT     count only the rows whose id contains TEXT
//!                   (repeatable)
//!   --seconds S     criterion's profiling time per row, in the slowed-down
//!                   time under valgrind (default: the row's own, 2 s, or
//!                   60 s for the compactions of 64 MiB)
//!   --no-run        run nothing: report the counts of the last run's
//!                   callgrind files (target/counters/), e.g. after
//!                   editing the notes
//!   --jobs N        rows counted at once (default 2: the counts do not
//!                   depend on what else runs, only the wall time does)
//!   --out PATH      where to write the report (default: COUNTERS.md at
//!                   the workspace root)
//! ```
//!
//! Each row runs as `<bench binary> --bench --profile-time S --exact ID`
//! under `valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes`,
//! with the simulated caches set to this machine's L1d and L2 (see
//! [`CACHES`]). The hand-written notes under the tables come from
//! `bench/notes/counters.md`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use managed_bench::counters::{Comparison, Cost, MEASURED, WORKLOADS, Workload, measured_cost};
use managed_bench::report::machine;

/// The simulated caches: callgrind models two levels, and its last level
/// is set to the L2 (2 MiB, 16-way per core here) rather than the shared
/// L3, so that its misses are the accesses that leave the core's caches.
/// The L1d is this machine's (48 KiB, 12-way); lines are 64 bytes.
const CACHES: &[&str] = &["--D1=49152,12,64", "--LL=2097152,16,64"];

/// The options of one run.
#[derive(Debug)]
struct Options {
    only: Vec<String>,
    no_run: bool,
    seconds: Option<String>,
    jobs: usize,
    out: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo run --release -p managed-bench --bin bench_counters \
                     [-- [--only TEXT]... [--no-run] [--seconds S] [--jobs N] [--out PATH]]";

/// Parses the arguments after the program name.
fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        only: Vec::new(),
        no_run: false,
        seconds: None,
        jobs: 2,
        out: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs {what}"))
        };
        match arg.as_str() {
            "--only" => options.only.push(value("a text")?),
            "--no-run" => options.no_run = true,
            "--seconds" => {
                let s = value("a number of seconds")?;
                s.parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0)
                    .ok_or_else(|| format!("--seconds {s}: not a positive number"))?;
                options.seconds = Some(s);
            }
            "--jobs" => {
                let n = value("a number")?;
                options.jobs = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--jobs {n}: not a positive number"))?;
            }
            "--out" => options.out = Some(value("a path")?.into()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// Builds the benches and returns each bench target's executable.
fn build(root: &Path) -> Result<HashMap<String, PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "managed-bench",
            "--no-run",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building the benches failed ({})", output.status));
    }
    let mut found = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_bench = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "bench"));
        if let (true, Some(name), Some(exe)) = (
            is_bench,
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            found.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    Ok(found)
}

/// Where a row's callgrind output goes.
fn output_file(w: &Workload, dir: &Path) -> PathBuf {
    let file: String =
        w.id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
    dir.join(format!("{file}.callgrind"))
}

/// Reads a row's cost back from its callgrind output.
fn read_cost(w: &Workload, out: &Path) -> Result<Cost, String> {
    let text = fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let cost = measured_cost(&text, MEASURED)?;
    if cost.calls < w.sections {
        return Err(format!(
            "`{}`: {} timed sections counted, fewer than one run (is the id right?)",
            w.id, cost.calls
        ));
    }
    Ok(cost)
}

/// Counts one row: runs it under callgrind and reads the timed function's
/// cost back.
fn count(exe: &Path, w: &Workload, seconds: Option<&str>, dir: &Path) -> Result<Cost, String> {
    let seconds = seconds.map_or_else(|| w.seconds.to_string(), str::to_owned);
    let out = output_file(w, dir);
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--cache-sim=yes", "--branch-sim=yes"])
        .args(CACHES)
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["--bench", "--profile-time", &seconds, "--exact", w.id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("could not run valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("`{}` under callgrind failed ({status})", w.id));
    }
    read_cost(w, &out)
}

/// The figures of one row, per operation.
struct PerOp {
    runs: f64,
    instructions: f64,
    accesses: f64,
    l1_misses: f64,
    l2_misses: f64,
    branches: f64,
    mispredicted: f64,
}

impl PerOp {
    fn new(w: &Workload, c: &Cost) -> Self {
        let runs = c.calls as f64 / w.sections as f64;
        let per = |n: u64| n as f64 / (runs * w.ops as f64);
        Self {
            runs,
            instructions: per(c.get("Ir")),
            accesses: per(c.sum(&["Dr", "Dw"])),
            l1_misses: per(c.sum(&["D1mr", "D1mw"])),
            l2_misses: per(c.sum(&["DLmr", "DLmw"])),
            branches: per(c.sum(&["Bc", "Bi"])),
            mispredicted: per(c.sum(&["Bcm", "Bim"])),
        }
    }
}

/// A count per operation with three significant digits.
fn fig(x: f64) -> String {
    if x == 0.0 {
        "0".to_owned()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A ratio, or a dash when the peer counts nothing.
fn ratio(ours: f64, peer: f64) -> String {
    if peer > 0.0 {
        format!("{:.2}", ours / peer)
    } else {
        "—".to_owned()
    }
}

/// The markdown of one comparison (rows not counted are left out).
fn table(md: &mut String, c: &Comparison, counted: &HashMap<&str, PerOp>) {
    let _ = writeln!(md, "## {}\n\nPer {}.\n", c.title, c.op);
    md.push_str(
        "| row | instructions | loads + stores | L1d misses | L2 misses | branches | mispredicted | runs counted |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for w in c.rows {
        let Some(p) = counted.get(w.id) else { continue };
        let name = w.id.split_once('/').map_or(w.id, |(_, n)| n);
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.0} |",
            name.replace('|', "\\|"),
            fig(p.instructions),
            fig(p.accesses),
            fig(p.l1_misses),
            fig(p.l2_misses),
            fig(p.branches),
            fig(p.mispredicted),
            p.runs
        );
    }
    let peer = &c.rows[c.peer];
    if let Some(theirs) = counted.get(peer.id) {
        let _ = writeln!(
            md,
            "\nEach row against `{}` (instructions, L1d misses, L2 misses, mispredicted):\n",
            peer.id.split_once('/').map_or(peer.id, |(_, n)| n)
        );
        for w in c.rows.iter().filter(|w| w.id != peer.id) {
            let Some(ours) = counted.get(w.id) else {
                continue;
            };
            let _ = writeln!(
                md,
                "- `{}`: {}, {}, {}, {}",
                w.id.split_once('/').map_or(w.id, |(_, n)| n),
                ratio(ours.instructions, theirs.instructions),
                ratio(ours.l1_misses, theirs.l1_misses),
                ratio(ours.l2_misses, theirs.l2_misses),
                ratio(ours.mispredicted, theirs.mispredicted),
            );
        }
    }
    md.push('\n');
}

fn valgrind_version() -> Option<String> {
    let out = Command::new("valgrind").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("bench_counters: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(valgrind) = valgrind_version() else {
        eprintln!("bench_counters: valgrind is not installed (it provides callgrind)");
        return ExitCode::FAILURE;
    };
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = bench_dir.parent().unwrap_or(bench_dir).to_path_buf();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let dir = target.join("counters");
    if let Err(e) = fs::create_dir_all(&dir) {
        eprintln!("bench_counters: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let executables = if options.no_run {
        HashMap::new()
    } else {
        match build(&root) {
            Ok(found) => found,
            Err(e) => {
                eprintln!("bench_counters: {e}");
                return ExitCode::FAILURE;
            }
        }
    };

    let rows: Vec<&Workload> = WORKLOADS
        .iter()
        .flat_map(|c| c.rows)
        .filter(|w| options.only.is_empty() || options.only.iter().any(|o| w.id.contains(o)))
        .collect();
    if rows.is_empty() {
        eprintln!("bench_counters: no row matches {:?}", options.only);
        return ExitCode::from(2);
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<HashMap<&str, Result<Cost, String>>> = Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for _ in 0..options.jobs.min(rows.len()) {
            s.spawn(|| {
                while let Some(w) = rows.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = if options.no_run {
                        read_cost(w, &output_file(w, &dir))
                    } else {
                        println!("bench_counters: counting {}", w.id);
                        executables
                            .get(w.bench)
                            .ok_or_else(|| format!("no bench target `{}`", w.bench))
                            .and_then(|exe| count(exe, w, options.seconds.as_deref(), &dir))
                    };
                    if let Err(e) = &result {
                        eprintln!("bench_counters: {e}");
                    }
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(w.id, result);
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let failed = results.values().filter(|r| r.is_err()).count();
    let counted: HashMap<&str, PerOp> = rows
        .iter()
        .filter_map(|w| Some((w.id, PerOp::new(w, results.get(w.id)?.as_ref().ok()?))))
        .collect();

    let mut command = String::from("cargo run --release -p managed-bench --bin bench_counters");
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    let mut md = String::from(
        "# Counters\n\n<!-- Written by bench/src/bin/bench_counters.rs: do not edit by hand. \
         The notes at the end come from bench/notes/counters.md. -->\n\n",
    );
    let _ = writeln!(
        md,
        "What the timed work of a benchmark executes, counted by callgrind, per operation: \
         the workloads still slower than their targets in BENCHMARKS.md, beside their peers. \
         The instructions are exact and repeatable; the misses come from callgrind's \
         simulated caches (no hardware prefetcher) and the mispredictions from its \
         simulated branch predictor, the same model for every row. A count covers every \
         timed run criterion made (warm-up included) and nothing of the setup.\n\n\
         | | |\n|---|---|\n\
         | machine | {} |\n| date | {} |\n| compiler | {} |\n| valgrind | {valgrind} |\n\
         | simulated caches | L1d 48 KiB 12-way, L2 (callgrind's last level) 2 MiB 16-way, \
         64-byte lines |\n| command | `{command}` |",
        machine::cpu_model(),
        machine::now_utc(),
        machine::rustc_version(),
    );
    if options.no_run {
        md.push_str(
            "| counts | read back from the callgrind files of the last counting run \
             (`target/counters/`); the date is the rewrite's |\n",
        );
    }
    md.push('\n');
    for c in WORKLOADS {
        if c.rows.iter().any(|w| counted.contains_key(w.id)) {
            table(&mut md, c, &counted);
        }
    }
    if let Ok(notes) = fs::read_to_string(bench_dir.join("notes").join("counters.md")) {
        md.push_str(notes.trim_end());
        md.push('\n');
    }
    let out = options.out.unwrap_or_else(|| root.join("COUNTERS.md"));
    if let Err(e) = fs::write(&out, md) {
        eprintln!("bench_counters: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!("bench_counters: wrote {}", out.display());
    if failed > 0 {
        eprintln!("bench_counters: {failed} rows failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_parse() {
        let o = parse(&args(&[
            "--only",
            "slab",
            "--seconds",
            "0.5",
            "--jobs",
            "1",
        ]))
        .unwrap();
        assert_eq!(o.only, ["slab"]);
        assert_eq!(o.seconds.as_deref(), Some("0.5"));
        assert_eq!(o.jobs, 1);
        assert!(!o.no_run);
        assert!(parse(&args(&["--no-run"])).unwrap().no_run);
        assert!(parse(&args(&["--seconds", "-1"])).is_err());
        assert!(parse(&args(&["--jobs", "0"])).is_err());
        assert!(parse(&args(&["--only"])).is_err());
        assert!(parse(&args(&["--what"])).is_err());
    }

    #[test]
    fn figures_keep_three_digits() {
        assert_eq!(fig(69.04), "69.0");
        assert_eq!(fig(1234.4), "1234");
        assert_eq!(fig(1.714), "1.71");
        assert_eq!(fig(0.01234), "0.012");
        assert_eq!(fig(0.0), "0");
        assert_eq!(ratio(2.0, 1.0), "2.00");
        assert_eq!(ratio(2.0, 0.0), "—");
    }
}
