//! Demos and benchmarks: examples named `demo_*.rs` and `bench_*.rs` in `crates/*/examples`,
//! found by name, built once in release mode, run as binaries, and gathered into reports.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cargo;

// The same source as kiln-core's `report::format_metric` (xtask does not depend on kiln-core);
// its `pub` is public in kiln-core, not here.
#[allow(unreachable_pub)]
#[path = "../../crates/kiln-core/src/report/format.rs"]
mod format;

/// One runnable example: its crate, file stem and public name.
pub(crate) struct Entry {
    krate: String,
    example: String,
    pub(crate) name: String,
}

/// Examples whose file name starts with `prefix`, sorted by crate then name.
pub(crate) fn discover(root: &Path, prefix: &str) -> Result<Vec<Entry>, String> {
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
pub(crate) fn select(all: Vec<Entry>, wanted: &[String], kind: &str) -> Result<Vec<Entry>, String> {
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

/// The cargo target directory: `$CARGO_TARGET_DIR` (relative to the root when relative), else
/// `target/` in the root.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Builds the examples of `entries` in one `cargo build`, so that every example sees the same
/// feature set and nothing is rebuilt between them; `features` are extra cargo features.
///
/// `--workspace` makes cargo unify features over every package, as `cargo test --workspace`
/// does, so the gallery reuses the test build's burn instead of compiling another one.
fn build_examples(entries: &[Entry], features: &[&str]) -> Result<(), String> {
    let mut args: Vec<String> = vec!["build".into(), "--release".into(), "--workspace".into()];
    for entry in entries {
        args.extend(["--example".into(), entry.example.clone()]);
    }
    if !features.is_empty() {
        args.extend(["--features".into(), features.join(",")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo(&args, &[])
}

/// Runs an example's binary, built by [`build_examples`], from the root directory.
fn run_example(
    root: &Path,
    entry: &Entry,
    env: &[(&str, &str)],
    extra: &[String],
) -> Result<(), String> {
    let binary = target_dir(root)
        .join("release/examples")
        .join(&entry.example);
    println!("$ {} {}", binary.display(), extra.join(" "));
    let status = Command::new(&binary)
        .args(extra)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", entry.example))
    }
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
    build_examples(&demos, &[])?;
    let report = root.join("target/kiln-report");
    fs::create_dir_all(&report).map_err(|e| format!("cannot create {}: {e}", report.display()))?;
    let mut failures = Vec::new();
    for entry in &demos {
        let dir = report.join(&entry.name);
        let _ = fs::remove_dir_all(&dir);
        let dir_text = dir.to_string_lossy().into_owned();
        if let Err(e) = run_example(root, entry, &[("KILN_REPORT_DIR", &dir_text)], &[]) {
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
                    v.as_f64().map_or("?".into(), format::format_metric)
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

/// What `cargo xtask bench` was asked to do.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct BenchArgs {
    /// Benchmarks by name (all when empty).
    pub(crate) names: Vec<String>,
    /// Run the reference library too, taking turns, and write the ratio.
    pub(crate) compare: bool,
    /// Rounds of a comparison.
    pub(crate) rounds: usize,
    /// The GPU suite instead of named benchmarks.
    pub(crate) gpu_suite: bool,
    /// Passed to every benchmark: `--backend B` and everything after `--`.
    pub(crate) forward: Vec<String>,
}

/// Parses `bench [NAME...] [--compare] [--rounds N] [--backend B] [--gpu-suite] [-- ARGS...]`.
pub(crate) fn parse_bench_args(args: &[String]) -> Result<BenchArgs, String> {
    let (own, rest) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &args[args.len()..]),
    };
    let mut parsed = BenchArgs {
        rounds: 3,
        ..BenchArgs::default()
    };
    let mut it = own.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--compare" => parsed.compare = true,
            "--gpu-suite" => parsed.gpu_suite = true,
            "--rounds" => {
                let value = it
                    .next()
                    .ok_or("--rounds needs a number, e.g. --rounds 3")?;
                parsed.rounds = value
                    .parse()
                    .ok()
                    .filter(|&n: &usize| n >= 1)
                    .ok_or(format!(
                        "--rounds {value}: give a whole number of at least 1"
                    ))?;
            }
            "--backend" => {
                let value = it
                    .next()
                    .ok_or("--backend needs a name: flex, ndarray or wgpu")?;
                parsed.forward.extend(["--backend".into(), value.clone()]);
            }
            flag if flag.starts_with('-') => {
                return Err(format!(
                    "unknown flag `{flag}`; benchmark arguments go after `--`, e.g. \
                     `cargo xtask bench pinn-burgers -- --only best`"
                ));
            }
            name => parsed.names.push(name.to_string()),
        }
    }
    parsed.forward.extend(rest.iter().cloned());
    Ok(parsed)
}

pub(crate) fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let args = parse_bench_args(args)?;
    if args.gpu_suite {
        return crate::gpu::suite(root, &args);
    }
    let benches = select(discover(root, "bench_")?, &args.names, "benchmark")?;
    if args.compare {
        return crate::compare::compare(root, &benches, &args);
    }
    build_examples(&benches, &features_for(&args.forward))?;
    for entry in &benches {
        run_bench(root, entry, &args.forward, None)?;
    }
    Ok(())
}

/// Cargo features a benchmark run needs for the backend named in `forward` (`--backend wgpu`
/// builds with `wgpu`).
pub(crate) fn features_for(forward: &[String]) -> Vec<&'static str> {
    let backend = forward
        .iter()
        .position(|a| a == "--backend")
        .and_then(|i| forward.get(i + 1));
    match backend.map(String::as_str) {
        Some("wgpu") => vec!["kiln-core/wgpu"],
        _ => vec![],
    }
}

/// Builds the examples once for a whole run (see [`build_examples`]).
pub(crate) fn build_benches(entries: &[Entry], forward: &[String]) -> Result<(), String> {
    build_examples(entries, &features_for(forward))
}

/// Runs one benchmark binary, writing its JSON to `out` (default `target/kiln-bench/NAME.json`)
/// and passing `forward` on; returns the path written.
pub(crate) fn run_bench(
    root: &Path,
    entry: &Entry,
    forward: &[String],
    out: Option<PathBuf>,
) -> Result<PathBuf, String> {
    let dir = root.join("target/kiln-bench");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = out.unwrap_or_else(|| dir.join(format!("{}.json", entry.name)));
    let mut extra = vec!["--out".to_string(), file.to_string_lossy().into_owned()];
    extra.extend(forward.iter().cloned());
    run_example(root, entry, &[], &extra)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::{BenchArgs, parse_bench_args};

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_after_the_separator_reach_the_benchmark() {
        let parsed =
            parse_bench_args(&strings(&["pinn-burgers", "--", "--only", "best", "--f64"])).unwrap();
        assert_eq!(
            parsed,
            BenchArgs {
                names: strings(&["pinn-burgers"]),
                compare: false,
                rounds: 3,
                gpu_suite: false,
                forward: strings(&["--only", "best", "--f64"]),
            }
        );
    }

    #[test]
    fn own_flags_are_parsed_and_the_backend_is_forwarded_first() {
        let parsed = parse_bench_args(&strings(&[
            "--compare",
            "gemm",
            "--rounds",
            "5",
            "--backend",
            "wgpu",
            "--",
            "--quick",
        ]))
        .unwrap();
        assert!(parsed.compare && !parsed.gpu_suite);
        assert_eq!(parsed.rounds, 5);
        assert_eq!(parsed.names, strings(&["gemm"]));
        assert_eq!(parsed.forward, strings(&["--backend", "wgpu", "--quick"]));
        assert_eq!(super::features_for(&parsed.forward), ["kiln-core/wgpu"]);
    }

    #[test]
    fn unknown_flags_and_bad_rounds_are_errors_that_show_the_fix() {
        let err = parse_bench_args(&strings(&["pinn-burgers", "--only", "best"])).unwrap_err();
        assert!(
            err.contains("`--only`") && err.contains("after `--`"),
            "{err}"
        );
        let err = parse_bench_args(&strings(&["--rounds", "0"])).unwrap_err();
        assert!(err.contains("--rounds 0"), "{err}");
    }
}
