//! Reading criterion's results: every `new/benchmark.json` and
//! `new/estimates.json` pair under `target/criterion`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One measured benchmark: criterion's ids and its median estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The group (`family/workload`, or `family/workload/sweep`).
    pub group: String,
    /// The row: the function id given to `bench_function` or
    /// `BenchmarkId::new` (empty when the group has one unnamed row).
    pub function: String,
    /// The parameter of a `BenchmarkId` (a sweep's live count), if any.
    pub value: Option<String>,
    /// Elements per iteration, when the group declared a
    /// `Throughput::Elements`.
    pub elements: Option<u64>,
    /// Median time per iteration, in nanoseconds.
    pub median: f64,
    /// Lower bound of the median's confidence interval, in nanoseconds.
    pub lower: f64,
    /// Upper bound of the median's confidence interval, in nanoseconds.
    pub upper: f64,
    /// Where the estimates were read (the benchmark's `new` folder).
    pub path: PathBuf,
}

impl Measurement {
    /// The full id, as criterion prints it.
    #[must_use]
    pub fn id(&self) -> String {
        let mut id = self.group.clone();
        for part in [Some(&self.function), self.value.as_ref()]
            .into_iter()
            .flatten()
        {
            if !part.is_empty() {
                id.push('/');
                id.push_str(part);
            }
        }
        id
    }
}

/// Why a result could not be read.
#[derive(Debug)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// What was wrong with it.
    pub reason: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Reads every result under `criterion_dir` (criterion's output folder),
/// sorted by id. Folders without both files (a benchmark that never
/// finished) are skipped; files that do not parse are reported in the
/// second list, and the rest is still read.
#[must_use]
pub fn read_all(criterion_dir: &Path) -> (Vec<Measurement>, Vec<ReadError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut stack = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            // `base` and `change` hold older runs and comparisons; `report`
            // criterion's HTML.
            let name = entry.file_name();
            if name == "new" {
                if path.join("benchmark.json").is_file() && path.join("estimates.json").is_file() {
                    match read_one(&path) {
                        Ok(m) => found.push(m),
                        Err(e) => errors.push(e),
                    }
                }
            } else if name != "base" && name != "change" && name != "report" {
                stack.push(path);
            }
        }
    }
    found.sort_by_key(Measurement::id);
    (found, errors)
}

/// Reads the benchmark in the `new` folder `dir`.
fn read_one(dir: &Path) -> Result<Measurement, ReadError> {
    let load = |file: &str| -> Result<Value, ReadError> {
        let path = dir.join(file);
        let text = fs::read_to_string(&path).map_err(|e| ReadError {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| ReadError {
            path,
            reason: format!("not JSON: {e}"),
        })
    };
    let id = load("benchmark.json")?;
    let est = load("estimates.json")?;
    let bad = |file: &str, what: &str| ReadError {
        path: dir.join(file),
        reason: format!("no {what}"),
    };
    let text = |key: &str| id.get(key).and_then(Value::as_str).map(str::to_owned);
    let group = text("group_id").ok_or_else(|| bad("benchmark.json", "group_id"))?;
    let median = est
        .get("median")
        .ok_or_else(|| bad("estimates.json", "median"))?;
    let number = |v: Option<&Value>, what: &str| {
        v.and_then(Value::as_f64)
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| bad("estimates.json", what))
    };
    let interval = median.get("confidence_interval");
    Ok(Measurement {
        group,
        function: text("function_id").unwrap_or_default(),
        value: text("value_str"),
        elements: id
            .get("throughput")
            .and_then(|t| t.get("Elements"))
            .and_then(Value::as_u64),
        median: number(median.get("point_estimate"), "median point estimate")?,
        lower: number(
            interval.and_then(|i| i.get("lower_bound")),
            "median lower bound",
        )?,
        upper: number(
            interval.and_then(|i| i.get("upper_bound")),
            "median upper bound",
        )?,
        path: dir.to_path_buf(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a fake criterion result under `root`.
    pub(crate) fn fake(root: &Path, group: &str, function: &str, value: Option<&str>, median: f64) {
        let mut dir = root.join(group.replace('/', "_"));
        dir.push(function.replace(['/', ':'], "_"));
        if let Some(v) = value {
            dir.push(v);
        }
        dir.push("new");
        fs::create_dir_all(&dir).unwrap();
        let throughput = match value {
            Some(v) => format!(r#"{{"Elements": {v}}}"#),
            None => "null".into(),
        };
        let value = value.map_or("null".into(), |v| format!("\"{v}\""));
        fs::write(
            dir.join("benchmark.json"),
            format!(
                r#"{{"group_id":"{group}","function_id":"{function}","value_str":{value},"throughput":{throughput},"full_id":"x","directory_name":"x","title":"x"}}"#
            ),
        )
        .unwrap();
        fs::write(
            dir.join("estimates.json"),
            format!(
                r#"{{"mean":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}},"point_estimate":1.5,"standard_error":0.1}},
                   "median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{median},"standard_error":0.1}}}}"#,
                median * 0.95,
                median * 1.05
            ),
        )
        .unwrap();
    }

    /// A fresh scratch folder.
    pub(crate) fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bench_report_{name}_{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_ids_estimates_and_throughput() {
        let root = scratch("read");
        fake(&root, "uniform/churn", "UniformPool", None, 100.0);
        fake(&root, "uniform/churn/sweep", "slab", Some("1000"), 50.0);
        // An unfinished benchmark, and a broken one.
        fs::create_dir_all(root.join("x/y/new")).unwrap();
        let broken = root.join("b/c/new");
        fs::create_dir_all(&broken).unwrap();
        fs::write(broken.join("benchmark.json"), "{").unwrap();
        fs::write(broken.join("estimates.json"), "{}").unwrap();
        let (found, errors) = read_all(&root);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].reason.starts_with("not JSON"));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].id(), "uniform/churn/UniformPool");
        assert_eq!((found[0].median, found[0].elements), (100.0, None));
        assert_eq!(found[1].id(), "uniform/churn/sweep/slab/1000");
        assert_eq!(found[1].elements, Some(1000));
        assert!(found[1].lower < found[1].median && found[1].median < found[1].upper);
        fs::remove_dir_all(root).unwrap();
    }
}
