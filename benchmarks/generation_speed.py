"""Tokens per second: the compiled generation loop vs the straightforward loop.

The straightforward loop calls ``model.predict`` on the last ``seq_len`` tokens for
every new token (what the reference code does); the compiled loop runs the same
steps inside one ``tf.function`` (XLA on CPU). Both are fed the same random draws
and must choose the same tokens. Both are measured in this one run, and the
ratio is what to read: absolute numbers depend on the machine.

    python benchmarks/generation_speed.py            # defaults: 256 tokens, batch 1
    python benchmarks/generation_speed.py --tokens 64 --rnn-units 64
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--n-notes", type=int, default=387)
    parser.add_argument("--n-durations", type=int, default=18)
    parser.add_argument("--rnn-units", type=int, default=256)
    parser.add_argument("--embed-size", type=int, default=100)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = km.create_network(args.n_notes, args.n_durations, args.embed_size, args.rnn_units)
    rng = np.random.default_rng(0)
    pw = rng.integers(1, args.n_notes, (args.batch, args.seq_len))
    dw = rng.integers(1, args.n_durations, (args.batch, args.seq_len))
    kwargs = dict(pitch_sampler=km.Sampler(1.0), duration_sampler=km.Sampler(1.0), seed=0,
                  stop_at_start=False)

    t0 = time.perf_counter()
    first = km.generate_ids(model, pw, dw, args.tokens, **kwargs)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = km.generate_ids(model, pw, dw, args.tokens, **kwargs)
    warm = time.perf_counter() - t0
    km.generate_ids_reference(model, pw, dw, 2, **kwargs)  # warm up predict
    t0 = time.perf_counter()
    slow = km.generate_ids_reference(model, pw, dw, args.tokens, **kwargs)
    reference = time.perf_counter() - t0

    same = all(np.array_equal(a, b) for a, b in zip(fast, slow)) and all(
        np.array_equal(a, b) for a, b in zip(first, fast))
    n = args.tokens * args.batch
    print(f"model: create_network({args.n_notes}, {args.n_durations}, "
          f"embed_size={args.embed_size}, rnn_units={args.rnn_units}), seq_len {args.seq_len}, "
          f"{args.tokens} tokens, batch {args.batch}")
    print(f"straightforward loop (predict per token): {n / reference:9.1f} tokens/s")
    print(f"compiled loop, warm:                      {n / warm:9.1f} tokens/s")
    print(f"compiled loop, first call incl. tracing:  {n / cold:9.1f} tokens/s")
    print(f"ratio compiled warm / straightforward:    {reference / warm:9.1f}x")
    print(f"ratio compiled first call / straightforward: {reference / cold:6.1f}x")
    print(f"same tokens: {same}")


if __name__ == "__main__":
    main()
