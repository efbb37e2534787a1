//! `cargo xtask bench NAME --compare`: kiln's benchmark and the reference library's script
//! (`bench/reference/NAME.py`) run in turns on the same machine, and the ratio of their figures
//! is written to `target/kiln-bench/NAME.compare.json`.
//!
//! A reference script writes `{"library": .., "versions": {..}, "threads": n, "metrics": {..},
//! "compare": [{"metric": .., "kiln_backend": .., "better": "lower" | "higher",
//! "reference_metric": ..}]}` to the path after `--out`. Each `compare` entry names a figure of
//! kiln's benchmark (in its record for `kiln_backend`) and the reference's figure it is set
//! against (`reference_metric`, by default the same name); the reported `speedup` is
//! reference / kiln for times and kiln / reference for rates, so above 1 means kiln is faster.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::gallery::{BenchArgs, Entry, build_benches, run_bench};

/// The pinned reference libraries.
const REQUIREMENTS: &str = "bench/reference/requirements.txt";

/// The virtual environment with the reference libraries, created on first use under
/// `target/bench-venv` and reinstalled when `requirements.txt` changes. Returns its python.
fn venv(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("target/bench-venv");
    let python = dir.join("bin/python");
    let requirements = root.join(REQUIREMENTS);
    let wanted = fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let stamp = dir.join("kiln-requirements.txt");
    if python.is_file() && fs::read_to_string(&stamp).is_ok_and(|have| have == wanted) {
        return Ok(python);
    }
    println!(
        "installing the reference libraries into {} (once; several GB)",
        dir.display()
    );
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "-r"])
        .arg(&requirements))?;
    fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// The one-minute load average, from `/proc/loadavg`.
fn load() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// kiln's figure `metric` in the record for `backend` of a benchmark's JSON array.
fn kiln_figure(records: &Value, backend: &str, metric: &str) -> Option<f64> {
    records
        .as_array()?
        .iter()
        .filter(|r| r["backend"] == backend)
        .find_map(|r| r["metrics"][metric].as_f64())
}

pub(crate) fn compare(root: &Path, benches: &[Entry], args: &BenchArgs) -> Result<(), String> {
    let scripts: Vec<PathBuf> = benches
        .iter()
        .map(|e| root.join(format!("bench/reference/{}.py", e.name.replace('-', "_"))))
        .collect();
    if let Some((entry, _)) = benches.iter().zip(&scripts).find(|(_, s)| !s.is_file()) {
        let have: Vec<String> = fs::read_dir(root.join("bench/reference"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.strip_suffix(".py").map(|n| n.replace('_', "-"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Err(format!(
            "benchmark `{}` has no reference script; --compare works for: {}",
            entry.name,
            have.join(", ")
        ));
    }
    let python = venv(root)?;
    build_benches(benches, &args.forward)?;
    for (entry, script) in benches.iter().zip(&scripts) {
        compare_one(root, entry, script, &python, args)?;
    }
    Ok(())
}

fn compare_one(
    root: &Path,
    entry: &Entry,
    script: &Path,
    python: &Path,
    args: &BenchArgs,
) -> Result<(), String> {
    let dir = root.join("target/kiln-bench");
    let load_before = load();
    let (mut kiln_runs, mut reference_runs) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let kiln_out = dir.join(format!("{}.kiln.{round}.json", entry.name));
        run_bench(root, entry, &args.forward, Some(kiln_out.clone()))?;
        kiln_runs.push(read_json(&kiln_out)?);
        let ref_out = dir.join(format!("{}.reference.{round}.json", entry.name));
        println!(
            "$ {} {} --out {}",
            python.display(),
            script.display(),
            ref_out.display()
        );
        run(Command::new(python)
            .arg(script)
            .arg("--out")
            .arg(&ref_out)
            .current_dir(root))?;
        reference_runs.push(read_json(&ref_out)?);
    }
    let load_after = load();
    let first = &reference_runs[0];
    let wanted = first["compare"]
        .as_array()
        .ok_or(format!("{} wrote no `compare` list", script.display()))?;
    let mut figures = Vec::new();
    for item in wanted {
        let metric = item["metric"].as_str().unwrap_or_default();
        let backend = item["kiln_backend"].as_str().unwrap_or("flex");
        let lower_is_better = item["better"].as_str() != Some("higher");
        let reference_metric = item["reference_metric"].as_str().unwrap_or(metric);
        let kiln: Vec<f64> = kiln_runs
            .iter()
            .map(|r| kiln_figure(r, backend, metric))
            .collect::<Option<_>>()
            .ok_or(format!(
                "kiln's `{}` wrote no `{metric}` for backend `{backend}`",
                entry.name
            ))?;
        let reference: Vec<f64> = reference_runs
            .iter()
            .map(|r| r["metrics"][reference_metric].as_f64())
            .collect::<Option<_>>()
            .ok_or(format!(
                "{} wrote no `{reference_metric}`",
                script.display()
            ))?;
        let (k, r) = (median(&kiln), median(&reference));
        let speedup = if lower_is_better { r / k } else { k / r };
        println!(
            "{} {metric}: kiln ({backend}) {k:.4} | {} {reference_metric} {r:.4} | kiln speed-up {speedup:.2}x",
            entry.name,
            first["library"].as_str().unwrap_or("reference")
        );
        figures.push(json!({
            "metric": metric,
            "reference_metric": reference_metric,
            "kiln_backend": backend,
            "better": if lower_is_better { "lower" } else { "higher" },
            "kiln": k,
            "reference": r,
            "speedup": speedup,
            "kiln_rounds": kiln,
            "reference_rounds": reference,
        }));
    }
    let forward = args.forward.join(" ");
    let record = json!({
        "name": entry.name,
        "date": today(),
        "command": format!("cargo xtask bench {} --compare --rounds {}{}{}", entry.name, args.rounds,
            if forward.is_empty() { "" } else { " -- " }, forward),
        "reference": {
            "library": first["library"],
            "versions": first["versions"],
            "threads": first["threads"],
            "script": script.strip_prefix(root).unwrap_or(script).to_string_lossy(),
        },
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "load_before": load_before,
        "load_after": load_after,
        "figures": figures,
    });
    let out = dir.join(format!("{}.compare.json", entry.name));
    let text = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
    fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{kiln_figure, median, today};

    #[test]
    fn kiln_figures_are_read_from_the_named_backends_record() {
        let records = serde_json::json!([
            {"backend": "flex", "metrics": {"ms": 2.0}},
            {"backend": "ndarray", "metrics": {"ms": 3.0}},
        ]);
        assert_eq!(kiln_figure(&records, "ndarray", "ms"), Some(3.0));
        assert_eq!(kiln_figure(&records, "flex", "other"), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn today_is_a_plausible_date() {
        let date = today();
        assert_eq!(date.len(), 10, "{date}");
        let year: u32 = date[..4].parse().unwrap();
        assert!(year >= 2024, "{date}");
    }
}
