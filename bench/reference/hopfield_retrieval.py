"""Reference for kiln's `hopfield-retrieval` benchmark: one modern Hopfield update
softmax(beta Q X^T) X of 1024 queries (stored patterns with 64 flipped bits) against 10 000
stored random +-1 patterns of dimension 256, beta = 1/16, f32, plain PyTorch on all cores;
ms per batch (median after warm-up) and exact recall."""

import torch

from common import median, parse_args, sync, time_calls, write_torch

STORED, DIM, QUERIES, FLIPS = 10_000, 256, 1024, 64


def main():
    args = parse_args(__doc__)
    g = torch.Generator().manual_seed(1)
    stored = torch.randint(0, 2, (STORED, DIM), generator=g).float() * 2 - 1
    origin = torch.randint(0, STORED, (QUERIES,), generator=g)
    queries = stored[origin].clone()
    for row in range(QUERIES):
        flip = torch.randperm(DIM, generator=g)[:FLIPS]
        queries[row, flip] *= -1
    beta = 1.0 / DIM**0.5
    stored, queries, origin = (t.to(args.device) for t in (stored, queries, origin))

    def update():
        with torch.no_grad():
            states = torch.softmax(beta * queries @ stored.T, dim=1) @ stored
        sync(args.device)
        return states

    ms = 1e3 * median(time_calls(update, budget_s=1.0))
    states = update()
    recall = (torch.sign(states) == stored[origin]).all(dim=1).float().mean().item()
    write_torch(
        args,
        {"ms_per_batch": ms, "exact_recall": recall},
        [{"metric": "ms_per_batch", "better": "lower"}],
    )

if __name__ == "__main__":
    main()
