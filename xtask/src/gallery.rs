//! Demos and benchmarks: examples named `demo_*.rs` and `bench_*.rs` in `crates/*/examples`,
//! found by name, run in release mode, and gathered into reports.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::cargo;

/// One runnable example: its crate, file stem and public name.
struct Entry {
    krate: String,
    example: String,
    name: String,
}

/// Examples whose file name starts with `prefix`, sorted by crate then name.
fn discover(root: &Path, prefix: &str) -> Result<Vec<Entry>, String> {
    let crates = root.join("crates");
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(&crates)
        .map_err(|e| format!("cannot list {}: {e}", crates.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    for dir in dirs {
        let Ok(files) = fs::read_dir(dir.join("examples")) else {
            continue;
        };
        let krate = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut stems: Vec<String> = files
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.path()
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .filter(|s| s.starts_with(prefix))
            .collect();
        stems.sort();
        for example in stems {
            let name = example[prefix.len()..].replace('_', "-");
            found.push(Entry {
                krate: krate.clone(),
                example,
                name,
            });
        }
    }
    Ok(found)
}

/// The entries named in `wanted` (all when empty); unknown names are an error listing the valid.
fn select(all: Vec<Entry>, wanted: &[String], kind: &str) -> Result<Vec<Entry>, String> {
    if wanted.is_empty() {
        return Ok(all);
    }
    for w in wanted {
        if !all.iter().any(|e| &e.name == w) {
            let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
            return Err(format!(
                "unknown {kind} `{w}`; available: {}",
                names.join(", ")
            ));
        }
    }
    Ok(all
        .into_iter()
        .filter(|e| wanted.contains(&e.name))
        .collect())
}

fn run_example(entry: &Entry, env: &[(&str, &str)], extra: &[&str]) -> Result<(), String> {
    let mut args = vec![
        "run",
        "--release",
        "-p",
        &entry.krate,
        "--example",
        &entry.example,
    ];
    if !extra.is_empty() {
        args.push("--");
        args.extend_from_slice(extra);
    }
    cargo(&args, env)
}

pub(crate) fn list(root: &Path) -> Result<(), String> {
    for (kind, prefix) in [("demo", "demo_"), ("bench", "bench_")] {
        for e in discover(root, prefix)? {
            println!("{kind:5} {:24} ({})", e.name, e.krate);
        }
    }
    Ok(())
}

pub(crate) fn demo(root: &Path, wanted: &[String]) -> Result<(), String> {
    let demos = select(discover(root, "demo_")?, wanted, "demo")?;
    let report = root.join("target/kiln-report");
    fs::create_dir_all(&report).map_err(|e| format!("cannot create {}: {e}", report.display()))?;
    let mut failures = Vec::new();
    for entry in &demos {
        let dir = report.join(&entry.name);
        let _ = fs::remove_dir_all(&dir);
        let dir_text = dir.to_string_lossy().into_owned();
        if let Err(e) = run_example(entry, &[("KILN_REPORT_DIR", &dir_text)], &[]) {
            failures.push(format!("{}: {e}", entry.name));
        }
    }
    let index = write_index(&report)?;
    println!("report: {}", index.display());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("demos failed:\n  {}", failures.join("\n  ")))
    }
}

/// Gathers every `*/report.json` under the report directory into `index.md`.
fn write_index(report: &Path) -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(report)
        .map_err(|e| format!("cannot list {}: {e}", report.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("report.json").is_file())
        .collect();
    dirs.sort();
    let mut md = String::from("# kiln demo report\n\nWritten by `cargo xtask demo`.\n");
    for dir in dirs {
        let path = dir.join("report.json");
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
        let name = json["name"].as_str().unwrap_or("?");
        let _ = write!(
            md,
            "\n## {name}: {}\n\n",
            json["title"].as_str().unwrap_or("")
        );
        if let Some(summary) = json["summary"].as_str().filter(|s| !s.is_empty()) {
            let _ = write!(md, "{summary}\n\n");
        }
        let _ = writeln!(
            md,
            "Backend: `{}`\n\n| metric | value |\n|---|---|",
            json["backend"].as_str().unwrap_or("?")
        );
        if let Some(metrics) = json["metrics"].as_object() {
            for (k, v) in metrics {
                let _ = writeln!(
                    md,
                    "| {k} | {} |",
                    v.as_f64().map_or("?".into(), |v| format!("{v:.4e}"))
                );
            }
        }
        if let Some(plots) = json["plots"].as_array() {
            for plot in plots {
                let file = plot[0].as_str().unwrap_or("");
                let caption = plot[1].as_str().unwrap_or("");
                let _ = write!(md, "\n![{caption}]({name}/{file})\n\n*{caption}*\n");
            }
        }
    }
    let index = report.join("index.md");
    fs::write(&index, md).map_err(|e| format!("cannot write {}: {e}", index.display()))?;
    Ok(index)
}

pub(crate) fn bench(root: &Path, wanted: &[String]) -> Result<(), String> {
    let benches = select(discover(root, "bench_")?, wanted, "benchmark")?;
    let out = root.join("target/kiln-bench");
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for entry in &benches {
        let file = out.join(format!("{}.json", entry.name));
        let file_text = file.to_string_lossy().into_owned();
        run_example(entry, &[], &["--out", &file_text])?;
    }
    Ok(())
}
