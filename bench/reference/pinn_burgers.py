"""Reference for kiln's `pinn-burgers` benchmark (run kiln with `-- --only plain --adam-steps
2000 --lbfgs-iters 0`): DeepXDE's Burgers configuration written in JAX. u_t + u u_x = nu u_xx
on x in [-1, 1], t in [0, 0.99], nu = 0.01/pi; a 2-[20]x3-1 tanh MLP (Glorot normal weights,
zero biases); 2540 interior points, 80 boundary points (u = 0) and 160 initial points
(u = -sin(pi x)), uniformly random; loss = mean residual^2 + mean boundary^2 + mean initial^2;
Adam 1e-3 (eps 1e-8); u_t, u_x and u_xx by forward-mode AD (jvp), the step jit-compiled. f32.
ms per Adam step: the mean over ADAM_STEPS steps after a compiling warm-up."""

import time

import jax
import jax.numpy as jnp
import optax

from common import parse_args, write

NU = 0.01 / jnp.pi
ADAM_STEPS = 2000
WIDTHS = [2, 20, 20, 20, 1]


def init(key):
    params = []
    for fan_in, fan_out in zip(WIDTHS[:-1], WIDTHS[1:]):
        key, sub = jax.random.split(key)
        std = (2.0 / (fan_in + fan_out)) ** 0.5
        params.append((std * jax.random.normal(sub, (fan_in, fan_out)), jnp.zeros(fan_out)))
    return params


def mlp(params, xt):
    h = xt
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    return (h @ w + b)[0]


def residual(params, xt):
    u = lambda p: mlp(params, p)
    ex, et = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
    value, u_t = jax.jvp(u, (xt,), (et,))
    u_x_fn = lambda p: jax.jvp(u, (p,), (ex,))[1]
    u_x, u_xx = jax.jvp(u_x_fn, (xt,), (ex,))
    return u_t + value * u_x - NU * u_xx


def main():
    args = parse_args(__doc__)
    key = jax.random.PRNGKey(0)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    interior = jnp.stack([jax.random.uniform(k1, (2540,), minval=-1.0, maxval=1.0),
                          jax.random.uniform(k2, (2540,), maxval=0.99)], axis=1)
    side = jnp.where(jax.random.uniform(k3, (80,)) < 0.5, -1.0, 1.0)
    boundary = jnp.stack([side, jax.random.uniform(k4, (80,), maxval=0.99)], axis=1)
    x0 = jax.random.uniform(k5, (160,), minval=-1.0, maxval=1.0)
    initial = jnp.stack([x0, jnp.zeros(160)], axis=1)
    params = init(jax.random.PRNGKey(1))
    optim = optax.adam(1e-3, eps=1e-8)
    state = optim.init(params)

    def loss(params):
        r = jax.vmap(lambda p: residual(params, p))(interior)
        ub = jax.vmap(lambda p: mlp(params, p))(boundary)
        u0 = jax.vmap(lambda p: mlp(params, p))(initial)
        return jnp.mean(r**2) + jnp.mean(ub**2) + jnp.mean((u0 + jnp.sin(jnp.pi * x0)) ** 2)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss)(params)
        updates, state = optim.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    params, state, value = step(params, state)
    jax.block_until_ready(value)
    start = time.perf_counter()
    for _ in range(ADAM_STEPS):
        params, state, value = step(params, state)
    jax.block_until_ready(value)
    ms = 1e3 * (time.perf_counter() - start) / ADAM_STEPS
    write(
        args.out,
        "JAX",
        {"jax": jax.__version__, "optax": optax.__version__},
        1,
        {"ms_per_adam_step": ms, "final_loss": float(value)},
        [{"metric": "ms_per_adam_step", "kiln_backend": "flex", "better": "lower"}],
    )


if __name__ == "__main__":
    main()
