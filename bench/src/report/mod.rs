//! The benchmark report: reads criterion's results, pairs each of our rows
//! with its peers, and writes `BENCHMARKS.md` with a table and a picture
//! per family (see [`tables`] for the naming rule that pairs rows). The
//! `bench_report` binary runs the benches first.

pub mod machine;
pub mod markdown;
pub mod plot;
pub mod results;
pub mod tables;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// Reads the group-to-family assignments recorded by earlier runs
/// (`group<TAB>family` lines).
#[must_use]
pub fn read_assigned(file: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(file)
        .map(|text| {
            text.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(g, f)| (g.to_owned(), f.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the assignments (see [`read_assigned`]).
///
/// # Errors
///
/// When the file cannot be written.
pub fn write_assigned(file: &Path, assigned: &BTreeMap<String, String>) -> io::Result<()> {
    let text: String = assigned
        .iter()
        .map(|(g, f)| format!("{g}\t{f}\n"))
        .collect();
    fs::write(file, text)
}

/// What a run of the benches recorded for a later `--no-run` report:
/// whether it was quick, the load averages, the date and the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// Criterion ran with shorter times.
    pub quick: bool,
    /// Load average at the start of the run.
    pub load_start: String,
    /// Load average at its end.
    pub load_end: String,
    /// When it ended.
    pub date: String,
    /// The command.
    pub command: String,
}

impl RunInfo {
    /// Reads what [`write`](Self::write) wrote, if anything.
    #[must_use]
    pub fn read(file: &Path) -> Option<Self> {
        let text = fs::read_to_string(file).ok()?;
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t'))
                .map(str::to_owned)
        };
        Some(RunInfo {
            quick: field("quick")? == "true",
            load_start: field("load_start")?,
            load_end: field("load_end")?,
            date: field("date")?,
            command: field("command")?,
        })
    }

    /// Writes the record (`key<TAB>value` lines).
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn write(&self, file: &Path) -> io::Result<()> {
        fs::write(
            file,
            format!(
                "quick\t{}\nload_start\t{}\nload_end\t{}\ndate\t{}\ncommand\t{}\n",
                self.quick, self.load_start, self.load_end, self.date, self.command
            ),
        )
    }
}

/// Builds the report from the results under `criterion_dir` and writes it
/// to `out`, its pictures under `root/ctx.pictures` (old pictures there
/// are removed first, so none is left from a benchmark that is gone).
/// `families` are the bench files, in the order of the report; each gets a
/// section, with its notes from `notes_dir/<family>.md`, even without
/// results. Returns the number of results read and the files that could
/// not be read.
///
/// # Errors
///
/// When the report or a picture cannot be written.
pub fn write(
    root: &Path,
    criterion_dir: &Path,
    notes_dir: &Path,
    families: &[String],
    assigned: &BTreeMap<String, String>,
    ctx: &markdown::Context,
    out: &Path,
) -> io::Result<(usize, Vec<results::ReadError>)> {
    let (found, errors) = results::read_all(criterion_dir);
    let mut built = tables::build(&found, families, assigned);
    for (i, name) in families.iter().enumerate() {
        if !built.iter().any(|f| &f.name == name) {
            let empty = tables::Family {
                name: name.clone(),
                ..tables::Family::default()
            };
            built.insert(i.min(built.len()), empty);
        }
    }
    let notes = |family: &str| fs::read_to_string(notes_dir.join(format!("{family}.md"))).ok();
    let (md, pictures) = markdown::render(&built, ctx, &notes);
    let dir = root.join(&ctx.pictures);
    if dir.is_dir() {
        for entry in fs::read_dir(&dir)?.flatten() {
            if entry.path().extension().is_some_and(|e| e == "svg") {
                fs::remove_file(entry.path())?;
            }
        }
    }
    fs::create_dir_all(&dir)?;
    for (name, svg) in pictures {
        fs::write(dir.join(name), svg)?;
    }
    fs::write(out, md)?;
    Ok((found.len(), errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::tests::{fake, scratch};

    #[test]
    fn writes_the_report_and_its_pictures_and_keeps_every_family() {
        let root = scratch("write");
        let criterion = root.join("target/criterion");
        fake(&criterion, "uniform/churn", "UniformPool", None, 80.0);
        fake(&criterion, "uniform/churn", "slab", None, 100.0);
        fake(&criterion, "hot_box", "PoolBox", None, 10.0);
        fake(&criterion, "hot_box", "Box", None, 20.0);
        let notes = root.join("bench/notes");
        fs::create_dir_all(&notes).unwrap();
        fs::write(notes.join("scoped.md"), "Scoped notes.\n").unwrap();
        fs::create_dir_all(root.join("docs/bench")).unwrap();
        fs::write(root.join("docs/bench/stale.svg"), "<svg/>").unwrap();
        let families: Vec<String> = ["uniform", "hot", "scoped"].map(String::from).into();
        let assigned = BTreeMap::from([("hot_box".to_owned(), "hot".to_owned())]);
        let run = RunInfo {
            quick: true,
            load_start: "1.0 1.0 1.0".into(),
            load_end: "2.0 2.0 2.0".into(),
            date: "today".into(),
            command: "cargo run".into(),
        };
        run.write(&root.join("run.tsv")).unwrap();
        assert_eq!(RunInfo::read(&root.join("run.tsv")), Some(run));
        assert_eq!(RunInfo::read(&root.join("none.tsv")), None);
        let file = root.join("families.tsv");
        write_assigned(&file, &assigned).unwrap();
        assert_eq!(read_assigned(&file), assigned);
        let ctx = markdown::Context {
            pictures: "docs/bench".into(),
            ..markdown::Context::default()
        };
        let out = root.join("BENCHMARKS.md");
        let (read, errors) =
            write(&root, &criterion, &notes, &families, &assigned, &ctx, &out).unwrap();
        assert_eq!((read, errors.len()), (4, 0));
        let md = fs::read_to_string(&out).unwrap();
        let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s} missing"));
        assert!(at("## Uniform containers") < at("## Hot pool"));
        assert!(at("## Hot pool") < at("## Scoped arena"));
        assert!(md.contains("| hot_box | `PoolBox` | `Box` | **0.50** |"));
        assert!(at("_No results in this run._") < at("Scoped notes."));
        assert!(root.join("docs/bench/uniform.svg").is_file());
        assert!(root.join("docs/bench/hot.svg").is_file());
        assert!(!root.join("docs/bench/stale.svg").exists());
        fs::remove_dir_all(root).unwrap();
    }
}
