"""Reference for kiln's `mlp-train-step` benchmark: one Adam step (eps 1e-8) of a
2-64-64-64-1 tanh MLP on 4096 points with loss mean(u^2): forward, backward and update, f32,
PyTorch on all cores; ms per step, median of 40 timed steps after 3 warm-up steps."""

import time

import torch

from common import median, parse_args, sync, write_torch

POINTS = 4096


def main():
    args = parse_args(__doc__)
    torch.manual_seed(1)
    layers = []
    widths = [2, 64, 64, 64, 1]
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).to(args.device)
    x = torch.rand(POINTS, 2, device=args.device) * 2 - 1
    optim = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)

    def step():
        optim.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        loss.backward()
        optim.step()
        sync(args.device)

    for _ in range(3):
        step()
    times = []
    for _ in range(40):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    write_torch(
        args,
        {"ms_per_step": 1e3 * median(times)},
        [{"metric": "ms_per_step", "better": "lower"}],
    )

if __name__ == "__main__":
    main()
