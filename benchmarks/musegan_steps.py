"""WGAN-GP training steps per second: the compiled MuseGAN loop vs the same step run eagerly.

One training step is ``critic_steps`` (5) critic steps, each with its gradient
penalty, plus one generator step, at the seed's shapes (2 bars x 16 steps x 84
pitches x 4 tracks, z 32). The compiled loop runs each step as a ``tf.function``
(graph); the eager run calls the very same Python step functions with
``tf.config.run_functions_eagerly(True)``. Both are timed in this one run after a
warm-up step; read the ratio, absolute figures depend on the machine.
``--mixed-precision`` measures the float16 + loss-scaling variant (meant for GPUs).

    python benchmarks/musegan_steps.py                  # defaults: batch 32, 3 steps each
    python benchmarks/musegan_steps.py --batch 64 --steps 5 --mixed-precision
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasmusic.training.musegan import MuseGAN, MuseGANConfig  # noqa: E402


def steps_per_second(gan: MuseGAN, batches, n_steps: int) -> float:
    """Time ``n_steps`` training steps (critic_steps critic steps + 1 generator step)."""
    iterator = iter(batches)

    def one_step() -> None:
        for _ in range(gan.config.critic_steps):
            critic_batch, noise = next(iterator)
            gan.critic_step(critic_batch)
        gan.generator_step(noise)

    one_step()  # warm-up: tracing and graph building are not counted
    started = time.perf_counter()
    for _ in range(n_steps):
        one_step()
    return n_steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode")
    parser.add_argument("--mixed-precision", action="store_true")
    args = parser.parse_args()

    config = MuseGANConfig(mixed_precision=args.mixed_precision)
    shape = (config.n_bars, config.n_steps_per_bar, config.n_pitches, config.n_tracks)
    rng = np.random.default_rng(0)
    real = np.where(rng.random((args.batch, *shape)) > 0.97, 1.0, -1.0).astype("float32")
    n_batches = (args.steps + 1) * config.critic_steps
    gan = MuseGAN(config, seed=0)
    batches = gan.distribute(tf.data.Dataset.from_tensors(real).repeat(2 * n_batches))

    print(f"device: {tf.config.list_logical_devices()[-1].name}; batch {args.batch}; "
          f"{'mixed_float16' if args.mixed_precision else 'float32'}; one step = "
          f"{config.critic_steps} critic steps + 1 generator step")
    compiled = steps_per_second(gan, batches, args.steps)
    print(f"compiled (tf.function): {compiled:.3f} steps/s", flush=True)
    tf.config.run_functions_eagerly(True)
    try:
        eager = steps_per_second(gan, batches, args.steps)
    finally:
        tf.config.run_functions_eagerly(False)
    print(f"eager:                  {eager:.3f} steps/s")
    print(f"compiled / eager:       {compiled / eager:.2f}x")


if __name__ == "__main__":
    main()
