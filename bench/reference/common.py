"""Shared helpers of kiln's reference benchmarks: argument parsing, timing and the JSON that
`cargo xtask bench NAME --compare` reads (see xtask/src/compare.rs)."""

import argparse
import json
import os
import time


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", required=True, help="where to write the JSON record")
    parser.add_argument("--device", default="cpu", help="PyTorch scripts: cpu or cuda")
    return parser.parse_args()


def sync(device):
    """Waits for queued GPU work (PyTorch on CUDA), so that timings include it."""
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def kiln_backend(device):
    """The kiln backend a PyTorch device is compared with: flex for the CPU, wgpu for a GPU."""
    return "flex" if device == "cpu" else "wgpu"


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def time_calls(fn, warmup=2, min_reps=5, budget_s=0.4):
    """Seconds of each call of `fn` after `warmup` calls, repeated for at least `budget_s`."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < budget_s:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def write(out, library, versions, threads, metrics, compare):
    record = {
        "library": library,
        "versions": versions,
        "threads": threads,
        "cores": os.cpu_count(),
        "metrics": metrics,
        "compare": compare,
    }
    with open(out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"{library}: " + " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))


def write_torch(args, metrics, compare):
    """`write` for the PyTorch scripts: versions, threads and the kiln backend of `args.device`
    (each compare entry names a metric and whether lower or higher is better)."""
    import torch

    backend = kiln_backend(args.device)
    write(args.out, "PyTorch", {"torch": torch.__version__, "device": args.device},
          torch.get_num_threads(), metrics,
          [dict(item, kiln_backend=backend) for item in compare])
