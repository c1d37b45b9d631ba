"""Peak memory of one char-RNN training step with and without gradient checkpointing.

Each configuration runs in its own subprocess with TensorFlow's BFC allocator on
the CPU (``TF_CPU_ALLOCATOR_USE_BFC=true``): with it,
``tf.config.experimental.get_memory_info("CPU:0")`` reports allocator statistics
(without it, it raises). The worker runs one warm-up step (tracing), resets the
peak, runs a second step of :func:`make_char_rnn_train_step` and reports the peak tensor
memory above what was allocated before the step. On a GPU the same figure comes
from ``GPU:0``.

The process's maximum resident set size is no use here: it is dominated by
TensorFlow itself (~700 MB), by instantiating the traced graph (larger with
checkpointing: one recomputed LSTM loop per segment) and by malloc keeping freed
pages, and it differs by <10 % between the two settings while the tensors differ 3x.

Without checkpointing the backward pass keeps every LSTM step's intermediate
values; with ``checkpoint_every=K`` it keeps the state every K steps and
recomputes one K-step segment at a time.

    python benchmarks/recompute_memory.py                      # seq 2000, checkpoint 100
    python benchmarks/recompute_memory.py --seq-len 4000 --checkpoint-every 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def worker(args) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from kerasmusic.models.char_rnn import build_char_rnn
    from kerasmusic.training.char_rnn import make_char_rnn_train_step

    device = "GPU:0" if tf.config.list_logical_devices("GPU") else "CPU:0"
    keras.utils.set_random_seed(0)
    model = build_char_rnn(args.vocab, embed_size=args.embed_size, rnn_units=args.rnn_units,
                           n_layers=args.layers)
    step = make_char_rnn_train_step(model, checkpoint_every=args.checkpoint_every or None)
    ids = np.random.default_rng(0).integers(0, args.vocab, (args.batch, args.seq_len + 1))
    x, y = tf.constant(ids[:, :-1], tf.int32), tf.constant(ids[:, 1:], tf.int32)
    state = tuple(tf.zeros([args.batch, args.rnn_units]) for _ in range(2 * args.layers))
    float(step(x, y, state)[0])  # trace and warm up
    tf.config.experimental.reset_memory_stats(device)
    before = tf.config.experimental.get_memory_info(device)["current"]
    t0 = time.perf_counter()
    loss = float(step(x, y, state)[0])
    seconds = time.perf_counter() - t0
    peak = tf.config.experimental.get_memory_info(device)["peak"] - before
    print(json.dumps({"peak_mb": peak / 2**20, "seconds": seconds, "loss": loss,
                      "device": device}))


def run(args, checkpoint_every: int) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--worker",
               "--checkpoint-every", str(checkpoint_every)]
    for name in ("seq_len", "batch", "vocab", "embed_size", "rnn_units", "layers"):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    env = {**os.environ, "TF_CPU_ALLOCATOR_USE_BFC": "true", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--vocab", type=int, default=80)
    parser.add_argument("--embed-size", type=int, default=32)
    parser.add_argument("--rnn-units", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    plain = run(args, 0)
    checkpointed = run(args, args.checkpoint_every)
    print(f"one training step: batch {args.batch} x {args.seq_len} characters, "
          f"{args.layers} LSTM layer(s) of {args.rnn_units} units, on {plain['device']}")
    print(f"{'':24}{'peak (MB)':>10}{'step (s)':>10}")
    for name, r in (("no checkpointing", plain),
                    (f"checkpoint_every={args.checkpoint_every}", checkpointed)):
        print(f"{name:24}{r['peak_mb']:10.1f}{r['seconds']:10.2f}")
    print(f"peak memory ratio, plain / checkpointed: "
          f"{plain['peak_mb'] / checkpointed['peak_mb']:.2f}x; step time ratio, "
          f"checkpointed / plain: {checkpointed['seconds'] / plain['seconds']:.2f}x")
    print(f"same loss: {abs(plain['loss'] - checkpointed['loss']) < 1e-5}")


if __name__ == "__main__":
    main()
