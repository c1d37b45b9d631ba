"""MuseGAN WGAN-GP training speed: GFLOP per step, GFLOP/s achieved, and the gains.

One training step is ``critic_steps`` (5) critic steps, each with its gradient
penalty, plus one generator step, at the seed's shapes (2 bars x 16 steps x 84
pitches x 4 tracks, z 32; batch 32 by default). In one run this prints:

- this machine's float32 matrix-product speed (a 2048^3 ``tf.matmul``), the ceiling
  a convolution network can hope to approach;
- the floating-point operations of one training step, counted by TensorFlow's
  profiler on the traced graphs (``tf.compat.v1.profiler``, float_operation) of the
  patch-convolution model, whose every layer is a matrix product the profiler
  counts in full (on the Keras-convolution graphs it misses the Conv3D gradients);
  both models do the same arithmetic, so one count serves all three loops;
- steps/s and GFLOP/s of three loops on the same batches:
  ``keras convs, a call per step`` (Keras' ``Conv2DTranspose`` / ``Conv3D`` and a
  compiled call per critic or generator step with the losses read back each time:
  the library before the patch convolutions), ``patch convs, a call per step``, and
  ``patch convs, steps in one call`` (``MuseGAN.train_steps``: the way ``fit`` runs,
  losses read once per call).

Read the ratios; absolute figures depend on the machine and on what else runs.

    python benchmarks/musegan_steps.py                   # batch 32, 3 timed steps per loop
    python benchmarks/musegan_steps.py --steps 2 --skip-keras   # only the patch loops
    python benchmarks/musegan_steps.py --mixed-precision        # float16 (for GPUs)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasmusic.training.musegan import MuseGAN, MuseGANConfig  # noqa: E402


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """float32 GFLOP/s of an n x n by n x n product (best of ``repeats``)."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    product = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    product(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


def graph_flops(function, *args) -> float:
    """Floating-point operations of one call of the ``tf.function``, by the profiler."""
    graph = function.get_concrete_function(*args).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


def step_flops(gan: MuseGAN, batches) -> float:
    """FLOPs of one training step: critic_steps critic steps + one generator step."""
    critic_batch, noise = next(iter(batches))
    return (gan.config.critic_steps * graph_flops(gan._critic_step, critic_batch)
            + graph_flops(gan._generator_step, noise))


def per_step_calls(gan: MuseGAN, iterator, n_steps: int) -> float:
    """Training steps/s with a compiled call per critic / generator step."""
    started = time.perf_counter()
    for _ in range(n_steps):
        for _ in range(gan.config.critic_steps):
            critic_batch, noise = next(iterator)
            gan.critic_step(critic_batch)
        gan.generator_step(noise, real=critic_batch[0])
    return n_steps / (time.perf_counter() - started)


def one_call(gan: MuseGAN, iterator, n_steps: int) -> float:
    """Training steps/s with ``n_steps`` training steps in one ``train_steps`` call."""
    started = time.perf_counter()
    out = gan.train_steps(iterator, n_steps * gan.config.critic_steps)
    elapsed = time.perf_counter() - started
    assert int(out["generator_steps"]) == n_steps, out
    return n_steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per loop and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the loops take turns this many times; the best round counts")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--skip-keras", action="store_true",
                        help="leave out the Keras-convolution loop (the slowest)")
    args = parser.parse_args()

    config = MuseGANConfig(mixed_precision=args.mixed_precision)
    shape = (config.n_bars, config.n_steps_per_bar, config.n_pitches, config.n_tracks)
    rng = np.random.default_rng(0)
    real = np.where(rng.random((args.batch, *shape)) > 0.97, 1.0, -1.0).astype("float32")
    n_batches = (args.rounds * args.steps + 2) * config.critic_steps

    ceiling = matmul_gflops()
    print(f"device: {tf.config.list_logical_devices()[-1].name}; batch {args.batch}; "
          f"{'mixed_float16' if args.mixed_precision else 'float32'}; one step = "
          f"{config.critic_steps} critic steps + 1 generator step")
    print(f"float32 matmul 2048^3: {ceiling:.1f} GFLOP/s", flush=True)

    loops = [("patch convs, steps in one call", True, one_call),
             ("patch convs, a call per step", True, per_step_calls)]
    if not args.skip_keras:
        loops.append(("keras convs, a call per step", False, per_step_calls))
    setups, flops = [], None
    for name, patch, run in loops:
        gan = MuseGAN(dataclasses.replace(config, patch_convs=patch), seed=0)
        batches = gan.distribute(tf.data.Dataset.from_tensors(real).repeat(n_batches))
        if flops is None:
            flops = step_flops(gan, batches)
            print(f"one step: {flops / 1e9:.1f} GFLOP (profiler)", flush=True)
        iterator = iter(batches)
        run(gan, iterator, 1)  # warm-up: tracing and graph building are not counted
        setups.append((name, gan, iterator, run))
    # The loops take turns, so a busy moment of the machine does not fall on one only.
    rates = {name: 0.0 for name, *_ in setups}
    for _ in range(args.rounds):
        for name, gan, iterator, run in setups:
            rates[name] = max(rates[name], run(gan, iterator, args.steps))
    for name in rates:
        achieved = rates[name] * flops / 1e9
        print(f"{name:32s} {rates[name]:.3f} steps/s  {achieved:6.1f} GFLOP/s  "
              f"({achieved / ceiling:.0%} of matmul)", flush=True)
    best = rates["patch convs, steps in one call"]
    for name, rate in rates.items():
        print(f"patch convs, steps in one call / {name}: {best / rate:.2f}x")


if __name__ == "__main__":
    main()
