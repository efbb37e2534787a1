"""Reference for kiln's `gemm` benchmark: GFLOP/s of the same f32 products in PyTorch (all
cores, or `--device cuda`), median over timed repetitions after warm-up."""

import torch

from common import median, parse_args, sync, time_calls, write_torch

SHAPES = [
    ("square_512", 1, 512, 512, 512),
    ("square_1024", 1, 1024, 1024, 1024),
    ("square_2048", 1, 2048, 2048, 2048),
    ("hopfield_scores", 1, 1024, 256, 10_000),
    ("hopfield_readout", 1, 1024, 10_000, 256),
    ("fno_dft", 1, 32 * 32 * 32, 32, 16),
    ("fno_mixing", 128, 32, 64, 64),
]


def main():
    args = parse_args(__doc__)
    torch.manual_seed(0)
    metrics = {}
    for label, batch, m, k, n in SHAPES:
        a = torch.rand(batch, m, k, device=args.device) * 2 - 1
        b = torch.rand(batch, k, n, device=args.device) * 2 - 1

        def product():
            torch.matmul(a, b)
            sync(args.device)

        seconds = median(time_calls(product))
        metrics[f"gflops_{label}"] = 2.0 * batch * m * k * n / seconds / 1e9
    compare = [{"metric": f"gflops_{label}", "better": "higher"} for label, *_ in SHAPES]
    write_torch(args, metrics, compare)


if __name__ == "__main__":
    main()
