//! `cargo xtask`: kiln's task runner (ci, test, demo, bench, doc), cheapest checks first.

mod compare;
mod gallery;
mod gpu;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci                              fmt check, clippy -D warnings, docs, then the whole test suite
  test [--backend flex|ndarray|wgpu]
                                  tests with KILN_BACKEND set (wgpu: the backend-equivalence subset)
  demo [NAME...]                  run the showcase gallery; writes target/kiln-report/index.md
  bench [NAME...] [-- ARGS]       run benchmarks (ARGS go to each); each writes
                                  target/kiln-bench/NAME.json
  bench NAME... --compare [--rounds N]
                                  kiln and the reference library (bench/reference/NAME.py,
                                  venv under target/) in turns; writes NAME.compare.json
  bench --gpu-suite               the GPU-capable benchmarks on wgpu
  doc                             build the API docs with warnings denied
  list                            list demos and benchmarks";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test(&args[1..]),
        Some("demo") => gallery::demo(&root(), &args[1..]),
        Some("bench") => gallery::bench(&root(), &args[1..]),
        Some("doc") => doc(),
        Some("list") => gallery::list(&root()),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
/// The workspace root: the nearest ancestor of the current directory whose `Cargo.toml` declares
/// `[workspace]` (`cargo xtask` runs from anywhere inside the checkout), else the directory this
/// binary was built from. Found at run time because a build directory shared between checkouts
/// (a CI cache) can hold an xtask binary built elsewhere.
fn root() -> PathBuf {
    if let Ok(mut dir) = std::env::current_dir() {
        loop {
            let manifest = dir.join("Cargo.toml");
            if std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains("[workspace]")) {
                return dir;
            }
            if !dir.pop() {
                break;
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Runs `cargo ARGS` in the workspace root with extra environment variables.
fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("$ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--release",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    doc()?;
    test(&[])
}

fn test(args: &[String]) -> Result<(), String> {
    let backend = match args {
        [] => None,
        [flag, name] if flag == "--backend" => Some(name.as_str()),
        [flag] if flag.starts_with("--backend=") => Some(&flag["--backend=".len()..]),
        _ => return Err("usage: cargo xtask test [--backend flex|ndarray|wgpu]".into()),
    };
    match backend {
        None => cargo(&["test", "--workspace", "--release"], &[]),
        Some(b @ ("flex" | "ndarray")) => cargo(
            &["test", "--workspace", "--release"],
            // burn restores optimiser state on its default device: make that the same backend.
            &[("KILN_BACKEND", b), ("BURN_DEVICE", b)],
        ),
        Some("wgpu") => {
            let runtime = xdg_runtime_dir()?;
            cargo(
                &[
                    "test",
                    "--release",
                    "-p",
                    "kiln-tests",
                    "--features",
                    "wgpu",
                    "--test",
                    "backend_equivalence",
                ],
                &[("KILN_BACKEND", "wgpu"), ("XDG_RUNTIME_DIR", &runtime)],
            )
        }
        Some(other) => Err(format!(
            "unknown backend `{other}`: valid backends are flex, ndarray, wgpu"
        )),
    }
}

/// `XDG_RUNTIME_DIR`, or a private directory under `target/` when it is unset: Mesa's Vulkan
/// drivers complain on every device creation in headless containers without one.
fn xdg_runtime_dir() -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_dir()) {
        return Ok(dir.to_string_lossy().into_owned());
    }
    let dir = root().join("target/xdg-runtime");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))?;
    Ok(dir.to_string_lossy().into_owned())
}

fn doc() -> Result<(), String> {
    cargo(
        &["doc", "--workspace", "--no-deps", "--release"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
}
