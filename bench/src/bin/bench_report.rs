//! Runs the benchmark suite and writes BENCHMARKS.md from its results.
//!
//! ```text
//! cargo run --release -p managed-bench --bin bench_report [-- OPTIONS]
//!
//!   --quick         criterion's shorter times (indicative figures, minutes
//!                   instead of the full run)
//!   --no-run        run nothing: report the results criterion already has
//!   --bench NAME    run only this bench (repeatable); the report still
//!                   shows every result found
//!   --out PATH      where to write the report (default: BENCHMARKS.md at
//!                   the workspace root)
//! ```
//!
//! Each bench runs as `cargo bench -p managed-bench --bench NAME`, one after
//! the other (never two at once: they would slow each other down). The
//! pictures go to `docs/bench/`, the notes come from `bench/notes/`.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use managed_bench::report::{self, machine, markdown::Context};

/// The benches in the order of the report; others follow alphabetically.
const ORDER: &[&str] = &[
    "uniform",
    "contiguous",
    "region",
    "heap",
    "multisize",
    "drop_arena",
    "hot",
    "scoped",
];

/// Criterion's options in `--quick` mode.
const QUICK: &[&str] = &[
    "--quick",
    "--warm-up-time",
    "0.5",
    "--measurement-time",
    "1",
];

/// The options of one run.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    no_run: bool,
    benches: Vec<String>,
    out: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo run --release -p managed-bench --bin bench_report \
                     [-- [--quick] [--no-run] [--bench NAME]... [--out PATH]]";

/// Parses the arguments after the program name.
fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--no-run" => options.no_run = true,
            "--bench" => options.benches.push(
                args.next()
                    .ok_or("--bench needs the name of a bench")?
                    .clone(),
            ),
            "--out" => {
                options.out = Some(args.next().ok_or("--out needs a path")?.into());
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// The bench targets: the files of `bench/benches/`, in report order.
fn bench_names(bench_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(bench_dir.join("benches"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let path = e.path();
                    (path.extension()? == "rs")
                        .then(|| path.file_stem()?.to_str().map(str::to_owned))?
                })
                .collect()
        })
        .unwrap_or_default();
    let rank = |n: &String| ORDER.iter().position(|o| o == n).unwrap_or(ORDER.len());
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    names
}

/// The groups whose results were written at or after `since`.
fn groups_since(criterion_dir: &Path, since: SystemTime) -> Vec<String> {
    let (found, _) = report::results::read_all(criterion_dir);
    found
        .into_iter()
        .filter(|m| {
            fs::metadata(m.path.join("estimates.json"))
                .and_then(|meta| meta.modified())
                .is_ok_and(|t| t >= since)
        })
        .map(|m| m.group)
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("bench_report: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = bench_dir.parent().unwrap_or(bench_dir).to_path_buf();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let criterion_dir = target.join("criterion");
    let families = bench_names(bench_dir);
    if let Some(bad) = options.benches.iter().find(|b| !families.contains(b)) {
        eprintln!(
            "bench_report: there is no bench `{bad}`; the benches are: {}",
            families.join(", ")
        );
        return ExitCode::from(2);
    }

    let load_start = machine::load_average();
    println!("bench_report: load average {load_start} at the start");
    let assigned_file = criterion_dir.join("bench_report_families.tsv");
    let mut assigned = report::read_assigned(&assigned_file);
    let mut failures = Vec::new();
    if !options.no_run {
        let run: Vec<&String> = if options.benches.is_empty() {
            families.iter().collect()
        } else {
            options.benches.iter().collect()
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        for bench in run {
            println!("bench_report: cargo bench -p managed-bench --bench {bench}");
            let since = SystemTime::now();
            let mut command = Command::new(&cargo);
            command.current_dir(&root).args([
                "bench",
                "-p",
                "managed-bench",
                "--bench",
                bench,
                "--",
            ]);
            if options.quick {
                command.args(QUICK);
            }
            match command.status() {
                Ok(status) if status.success() => {}
                Ok(status) => {
                    eprintln!("bench_report: the `{bench}` bench failed ({status})");
                    failures.push(bench.clone());
                }
                Err(e) => {
                    eprintln!("bench_report: could not run cargo: {e}");
                    failures.push(bench.clone());
                }
            }
            for group in groups_since(&criterion_dir, since) {
                assigned.insert(group, bench.clone());
            }
        }
        if fs::create_dir_all(&criterion_dir).is_ok()
            && let Err(e) = report::write_assigned(&assigned_file, &assigned)
        {
            eprintln!(
                "bench_report: could not write {}: {e}",
                assigned_file.display()
            );
        }
    }

    let mut command = String::from("cargo run --release -p managed-bench --bin bench_report");
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    let run_file = criterion_dir.join("bench_report_run.tsv");
    let this = report::RunInfo {
        quick: options.quick,
        load_start,
        load_end: machine::load_average(),
        date: machine::now_utc(),
        command,
    };
    // With `--no-run`, the header describes the run that made the results.
    let (run, rewritten) = if options.no_run {
        match report::RunInfo::read(&run_file) {
            Some(earlier) => (earlier, Some((this.date.clone(), this.command.clone()))),
            None => (
                report::RunInfo {
                    load_start: "unknown".into(),
                    load_end: "unknown".into(),
                    date: "unknown".into(),
                    command: "unknown (results made outside bench_report)".into(),
                    quick: false,
                },
                Some((this.date.clone(), this.command.clone())),
            ),
        }
    } else {
        if let Err(e) = this.write(&run_file) {
            eprintln!("bench_report: could not write {}: {e}", run_file.display());
        }
        (this, None)
    };
    let ctx = Context {
        cpu: machine::cpu_model(),
        cores: machine::cores(),
        load_start: run.load_start,
        load_end: run.load_end,
        date: run.date,
        rustc: machine::rustc_version(),
        command: run.command,
        quick: run.quick,
        failures: failures.clone(),
        pictures: "docs/bench".into(),
        rewritten,
    };
    let out = options.out.unwrap_or_else(|| root.join("BENCHMARKS.md"));
    let notes = bench_dir.join("notes");
    match report::write(
        &root,
        &criterion_dir,
        &notes,
        &families,
        &assigned,
        &ctx,
        &out,
    ) {
        Ok((read, errors)) => {
            for e in &errors {
                eprintln!("bench_report: skipped a result: {e}");
            }
            println!(
                "bench_report: {read} results from {}; wrote {} and its pictures in {}; \
                 load average {} at the end",
                criterion_dir.display(),
                out.display(),
                root.join(&ctx.pictures).display(),
                ctx.load_end
            );
            if read == 0 {
                eprintln!(
                    "bench_report: no results found: run without --no-run, or check {}",
                    criterion_dir.display()
                );
                return ExitCode::FAILURE;
            }
            if failures.is_empty() && errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("bench_report: could not write the report: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_parse_and_bad_ones_say_why() {
        let o = parse(&args(&[
            "--quick", "--bench", "uniform", "--bench", "hot", "--out", "x.md",
        ]))
        .unwrap();
        assert!(o.quick && !o.no_run);
        assert_eq!(o.benches, ["uniform", "hot"]);
        assert_eq!(o.out, Some(PathBuf::from("x.md")));
        assert_eq!(
            parse(&args(&["--frobnicate"])).unwrap_err(),
            "unknown argument `--frobnicate`"
        );
        assert_eq!(
            parse(&args(&["--bench"])).unwrap_err(),
            "--bench needs the name of a bench"
        );
        assert_eq!(parse(&args(&["--help"])).unwrap_err(), "");
    }

    #[test]
    fn benches_come_in_report_order() {
        let names = bench_names(Path::new(env!("CARGO_MANIFEST_DIR")));
        assert_eq!(&names[..3], ["uniform", "contiguous", "region"]);
        assert!(names.contains(&"scoped".to_owned()));
    }
}
