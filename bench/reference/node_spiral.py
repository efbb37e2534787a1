"""Reference for kiln's `node-spiral` benchmark (torchdiffeq's ode_demo), written with diffrax,
equinox and optax: dy/dt = (y^3) A, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0], 1000 points on
[0, 25] from Dopri5 at rtol 1e-7, atol 1e-9; a 2-50-2 tanh MLP on y^3 (N(0, 0.1) weights, zero
biases); batches of 20 windows of 10 points (starts without replacement), loss mean |pred - y|,
RMSprop 1e-3 (PyTorch's alpha 0.99, eps 1e-8); Dopri5 rtol 1e-7, atol 1e-9, gradients by
backprop through the solver (diffrax's default checkpointed backprop); one jit-compiled step
with vmap over the windows. f32 as PyTorch's default. ms per iteration: the mean over
ITERATIONS after a compiling warm-up, as kiln's figure is a mean too."""

import time

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import parse_args, write

DATA_SIZE, BATCH_TIME, BATCH_SIZE = 1000, 10, 20
ITERATIONS = 400
A = jnp.array([[-0.1, 2.0], [-2.0, -0.1]])


def true_field(t, y, args):
    return (y**3) @ A


class Func(eqx.Module):
    mlp: eqx.nn.MLP

    def __init__(self, key):
        mlp = eqx.nn.MLP(2, 2, 50, 1, activation=jnp.tanh, key=key)
        keys = jax.random.split(key, 2)
        mlp = eqx.tree_at(lambda m: [l.weight for l in m.layers],
                          mlp, [0.1 * jax.random.normal(k, l.weight.shape)
                                for k, l in zip(keys, mlp.layers)])
        mlp = eqx.tree_at(lambda m: [l.bias for l in m.layers],
                          mlp, [jnp.zeros_like(l.bias) for l in mlp.layers])
        self.mlp = mlp

    def __call__(self, t, y, args):
        return self.mlp(y**3)


def solve(field, y0, ts):
    return diffrax.diffeqsolve(
        diffrax.ODETerm(field), diffrax.Dopri5(), t0=ts[0], t1=ts[-1], dt0=None, y0=y0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=1e-7, atol=1e-9),
        max_steps=100_000,
    ).ys


def main():
    args = parse_args(__doc__)
    t = jnp.linspace(0.0, 25.0, DATA_SIZE)
    true_y = solve(true_field, jnp.array([2.0, 0.0]), t)
    func = Func(jax.random.PRNGKey(0))
    optim = optax.rmsprop(1e-3, decay=0.99, eps=1e-8)
    opt_state = optim.init(eqx.filter(func, eqx.is_inexact_array))
    rng = np.random.default_rng(0)

    @eqx.filter_jit
    def step(func, opt_state, starts):
        def loss(func):
            def window(s):
                ts = jax.lax.dynamic_slice(t, (s,), (BATCH_TIME,))
                ys = jax.lax.dynamic_slice(true_y, (s, 0), (BATCH_TIME, 2))
                return jnp.mean(jnp.abs(solve(func, ys[0], ts) - ys))
            return jnp.mean(jax.vmap(window)(starts))
        value, grads = eqx.filter_value_and_grad(loss)(func)
        updates, opt_state = optim.update(grads, opt_state)
        return eqx.apply_updates(func, updates), opt_state, value

    def batch():
        return jnp.array(rng.choice(DATA_SIZE - BATCH_TIME, BATCH_SIZE, replace=False))

    func, opt_state, value = step(func, opt_state, batch())  # compile
    jax.block_until_ready(value)
    start = time.perf_counter()
    for _ in range(ITERATIONS):
        func, opt_state, value = step(func, opt_state, batch())
    jax.block_until_ready(value)
    ms = 1e3 * (time.perf_counter() - start) / ITERATIONS
    write(
        args.out,
        "diffrax",
        {"jax": jax.__version__, "diffrax": diffrax.__version__, "equinox": eqx.__version__,
         "optax": optax.__version__},
        1,
        {"ms_per_iter": ms, "final_loss": float(value)},
        [{"metric": "ms_per_iter", "kiln_backend": "flex", "better": "lower"}],
    )


if __name__ == "__main__":
    main()
