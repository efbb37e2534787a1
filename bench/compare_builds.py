"""Runs the small-op benchmarks of two builds of kiln in turns and prints the ratio of their
medians: for checking that a change to burn's features or kiln's kernels slows none of them.

    CARGO_TARGET_DIR=/tmp/before cargo build --release -p kiln-core -p kiln-neural-de --examples
    # (at the commit before the change), then at the change:
    cargo build --release -p kiln-core -p kiln-neural-de --examples
    python3 bench/compare_builds.py /tmp/before/release/examples target/release/examples [ROUNDS]

Benchmarks: ode-lorenz and ode-lorenz-single (each binary's JSON), node-spiral (the first
seeds' ms/iteration printed within 20 s) and mlp-train-step.
"""

import json
import re
import statistics
import subprocess
import sys
import tempfile


def run(before, after, rounds):
    results = {}

    def add(key, value):
        results.setdefault(key, []).append(value)

    out = tempfile.mkdtemp()
    for _ in range(rounds):
        for tag, folder in (("before", before), ("after", after)):
            for bench in ("bench_ode_lorenz", "bench_ode_lorenz_single", "bench_mlp_train_step"):
                path = f"{out}/{bench}.{tag}.json"
                subprocess.run([f"{folder}/{bench}", "--out", path], check=True, capture_output=True)
                for record in json.load(open(path)):
                    for metric, value in record["metrics"].items():
                        if metric in ("wall_s", "wall_s_per_sample", "us_per_step", "host_us_per_step",
                                      "ms_per_step", "ms_per_step_jet"):
                            add((bench[6:], record["backend"], metric, tag), value)
            spiral = subprocess.run(["timeout", "20", f"{folder}/bench_node_spiral"],
                                    capture_output=True, text=True)
            for ms in re.findall(r"seed \d+: ([0-9.]+) ms/iteration", spiral.stdout):
                add(("node_spiral", "flex", "ms_per_iter", tag), float(ms))
    print("| benchmark | backend | figure | before | after | after / before |")
    print("|---|---|---|---|---|---|")
    for key in sorted({k[:3] for k in results}):
        b = statistics.median(results[key + ("before",)])
        a = statistics.median(results[key + ("after",)])
        print(f"| {key[0]} | {key[1]} | {key[2]} | {b:.4g} | {a:.4g} | {a / b:.2f} |")


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3)
