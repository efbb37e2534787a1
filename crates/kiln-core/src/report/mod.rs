//! Demo reports: each demo writes its metrics and plots into one directory, and
//! `cargo xtask demo` gathers the directories into `target/kiln-report/index.md`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{BackendKind, Error, Result};

mod format;
pub use format::format_metric;

/// Environment variable naming the directory a demo writes into (set by `cargo xtask demo`).
pub const REPORT_DIR_ENV: &str = "KILN_REPORT_DIR";

/// The file each demo writes into its directory.
pub const REPORT_FILE: &str = "report.json";

/// A demo's results: a title, a summary, named numbers, and the plots it drew.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoReport {
    /// Short name (also the directory name).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// A paragraph on what the demo shows and how to read the numbers.
    pub summary: String,
    /// Metrics by name (errors, timings, step counts).
    pub metrics: BTreeMap<String, f64>,
    /// Plot file names, relative to the demo's directory, with captions.
    pub plots: Vec<(String, String)>,
    /// The backend the demo ran on.
    pub backend: String,
    #[serde(skip)]
    dir: PathBuf,
}

impl DemoReport {
    /// Starts a report for demo `name`, in `$KILN_REPORT_DIR` if set, else in
    /// `target/kiln-report/<name>`; the directory is created.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be created.
    pub fn new(name: &str, title: &str, backend: &str) -> Result<Self> {
        let dir = match std::env::var_os(REPORT_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from("target/kiln-report").join(name),
        };
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(DemoReport {
            name: name.to_string(),
            title: title.to_string(),
            summary: String::new(),
            metrics: BTreeMap::new(),
            plots: Vec::new(),
            backend: backend.to_string(),
            dir,
        })
    }

    /// The directory plots should be written into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside the demo's directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Sets the summary paragraph.
    pub fn summary(&mut self, text: impl Into<String>) {
        self.summary = text.into();
    }

    /// Records a metric.
    pub fn metric(&mut self, name: impl Into<String>, value: f64) {
        self.metrics.insert(name.into(), value);
    }

    /// Records a plot already written to `file` inside the demo's directory.
    pub fn plot(&mut self, file: impl Into<String>, caption: impl Into<String>) {
        self.plots.push((file.into(), caption.into()));
    }

    /// Writes `report.json` and prints the metrics.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Json`] when the file cannot be written.
    pub fn finish(&self) -> Result<()> {
        let path = self.dir.join(REPORT_FILE);
        let json = serde_json::to_string_pretty(self).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
        println!("{}: {}", self.name, self.title);
        for (k, v) in &self.metrics {
            println!("  {k} = {}", format_metric(*v));
        }
        println!("  report: {}", path.display());
        Ok(())
    }
}

/// User + system CPU seconds this process has used so far, all threads (Linux `/proc/self/stat`,
/// 100 clock ticks per second); `None` where that file is unavailable. On a shared machine the
/// CPU time per step is the figure that does not depend on what else is running.
pub fn cpu_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// Where a benchmark writes its JSON: the path after `--out` on the command line (what
/// `cargo xtask bench` passes), else `target/kiln-bench/NAME.json`.
pub fn bench_output(name: &str) -> PathBuf {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(
            || PathBuf::from(format!("target/kiln-bench/{name}.json")),
            PathBuf::from,
        )
}

/// The backends a benchmark runs on: the one after `--backend` on the command line (what
/// `cargo xtask bench NAME --backend B` passes), else `default`.
///
/// # Errors
/// [`Error::UnknownBackend`] for a name that is no backend, and
/// [`Error::BackendNotCompiled`] for one this build does not have (build with its feature).
pub fn bench_backends(default: &[BackendKind]) -> Result<Vec<BackendKind>> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--backend") {
        None => Ok(default.to_vec()),
        Some(i) => {
            let name = args.get(i + 1).map_or("", String::as_str);
            let kind: BackendKind = name.parse()?;
            crate::device::device(kind)?;
            Ok(vec![kind])
        }
    }
}

/// Writes a benchmark's records, a JSON array of `{"name", "backend", "threads", "metrics"}`
/// objects, to [`bench_output`]`(name)`, creating its folder, and prints where.
///
/// # Errors
/// [`Error::Io`] or [`Error::Json`] when the file cannot be written.
pub fn write_bench(name: &str, records: &[serde_json::Value]) -> Result<PathBuf> {
    let path = bench_output(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let json = serde_json::to_string_pretty(records).map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    println!("wrote {}", path.display());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::cpu_seconds;

    #[cfg(target_os = "linux")]
    #[test]
    fn cpu_time_is_read_and_grows_with_work() {
        let start = cpu_seconds().expect("/proc/self/stat is readable on Linux");
        assert!(start >= 0.0, "{start}");
        // Spin until the 10 ms clock ticks over, for at most 2 s of wall time.
        let mut x = 0u64;
        let spin = std::time::Instant::now();
        let mut end = start;
        while end <= start && spin.elapsed().as_secs_f64() < 2.0 {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            end = cpu_seconds().unwrap();
        }
        assert!(end > start, "{start} -> {end}");
    }
}
