"""Reference for kiln's `ode-lorenz` benchmark: 1024 Lorenz trajectories (sigma 10, rho 28,
beta 8/3) from 1 + 0.1 N(0, 1), t in [0, 10], Dopri5 at rtol 1e-6, atol 1e-9, f64, saved at
t = 1 and t = 10, with diffrax (JAX, jit, one batched state so one step sequence, as kiln's
shared steps); wall seconds per solve, median after a compiling warm-up."""

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from common import median, parse_args, time_calls, write  # noqa: E402

BATCH = 1024


def lorenz(t, y, args):
    x, yy, z = y[:, 0], y[:, 1], y[:, 2]
    return jnp.stack([10.0 * (yy - x), x * (28.0 - z) - yy, x * yy - 8.0 / 3.0 * z], axis=1)


@jax.jit
def solve(y0):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lorenz),
        diffrax.Dopri5(),
        t0=0.0,
        t1=10.0,
        dt0=None,
        y0=y0,
        saveat=diffrax.SaveAt(ts=jnp.array([1.0, 10.0])),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
        max_steps=100_000,
    )
    return sol.ys, sol.stats["num_steps"]


def main():
    args = parse_args(__doc__)
    y0 = 1.0 + 0.1 * jax.random.normal(jax.random.PRNGKey(2024), (BATCH, 3), dtype=jnp.float64)
    times = time_calls(lambda: jax.block_until_ready(solve(y0)), warmup=2, min_reps=5, budget_s=1.0)
    _, steps = solve(y0)
    write(
        args.out,
        "diffrax",
        {"jax": jax.__version__, "diffrax": diffrax.__version__},
        1,
        {"wall_s": median(times), "steps": float(steps)},
        [
            {"metric": "wall_s", "kiln_backend": "flex", "better": "lower"},
            # kiln's batched host path (solve_host on one [1024 * 3] state) against the same solve.
            {"metric": "wall_s_host_batched", "reference_metric": "wall_s", "kiln_backend": "flex",
             "better": "lower"},
        ],
    )


if __name__ == "__main__":
    main()
