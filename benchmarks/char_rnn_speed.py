"""Characters per second: the compiled stateful loop vs re-running the model on the prefix.

The compiled loop (``generate_char_ids``) reads the prime once, then carries the
LSTM state and costs one LSTM cell update per character, inside one
``tf.function`` (XLA on CPU). The reference loop (``generate_char_ids_reference``)
runs the whole model on the growing text for every new character (the model call
itself is a graph function traced once, so this is graph against graph): its cost
per character grows with the length. Both get the same random draws and must
choose the same characters. Both are timed in this one run; read the ratios,
absolute figures depend on the machine.

    python benchmarks/char_rnn_speed.py                 # defaults: 400 characters, batch 1
    python benchmarks/char_rnn_speed.py --chars 1000 --batch 8 --rnn-units 512
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasmusic.generation.char_rnn import (  # noqa: E402
    generate_char_ids,
    generate_char_ids_reference,
)
from kerasmusic.models.char_rnn import build_char_rnn  # noqa: E402
from kerasmusic.sampling import Sampler  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=400)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--prime", type=int, default=16, help="prime length in characters")
    parser.add_argument("--vocab", type=int, default=80)
    parser.add_argument("--embed-size", type=int, default=32)
    parser.add_argument("--rnn-units", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = build_char_rnn(args.vocab, embed_size=args.embed_size, rnn_units=args.rnn_units,
                           n_layers=args.layers)
    primes = np.random.default_rng(0).integers(0, args.vocab, (args.batch, args.prime))
    kwargs = dict(sampler=Sampler(1.0), seed=0)

    t0 = time.perf_counter()
    first = generate_char_ids(model, primes, args.chars, **kwargs)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = generate_char_ids(model, primes, args.chars, **kwargs)
    warm = time.perf_counter() - t0
    generate_char_ids_reference(model, primes, 2, **kwargs)  # trace the model call
    t0 = time.perf_counter()
    slow = generate_char_ids_reference(model, primes, args.chars, **kwargs)
    reference = time.perf_counter() - t0

    n = args.chars * args.batch
    print(f"model: build_char_rnn({args.vocab}, embed_size={args.embed_size}, "
          f"rnn_units={args.rnn_units}, n_layers={args.layers}); prime {args.prime}, "
          f"{args.chars} characters, batch {args.batch}")
    print(f"reference (whole prefix per character):   {n / reference:9.1f} chars/s")
    print(f"compiled stateful loop, warm:             {n / warm:9.1f} chars/s")
    print(f"compiled stateful loop, first call:       {n / cold:9.1f} chars/s")
    print(f"ratio compiled warm / reference:          {reference / warm:9.1f}x")
    print(f"ratio compiled first call / reference:    {reference / cold:9.1f}x")
    print(f"same characters: {np.array_equal(fast, slow) and np.array_equal(first, fast)}")


if __name__ == "__main__":
    main()
