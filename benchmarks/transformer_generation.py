"""Tokens per second: Music Transformer generation with a key/value cache vs the full re-forward.

Both are ``km.generate_sequence`` with the greedy sampler (argmax), one compiled
``tf.while_loop`` of the generation engine over the same model and prompt.
``use_cache=True`` runs the prompt once (:meth:`TransformerStepper.prefill`) and then
one :meth:`~TransformerStepper.step` per token, O(max_len * d_model) per layer.
``use_cache=False`` runs the whole model on the token sequence padded to ``max_len``
for every new token and reads the probabilities at the step's index (static shapes),
O(max_len^2 * d_model) per layer. Both must choose the same tokens. Both are measured
in this one run, each after a warm-up call with the same arguments that traces and
compiles it. Read the ratio; absolute numbers depend on the machine.

The default model is ``build_music_transformer``'s defaults (4 blocks, d_model 128,
4 heads, feed-forward 512) with ``max_len`` 1025 (a one-token prompt and 1024 new
ones) and the 388-token vocabulary of the Music Transformer's performance events,
untrained (the speed does not depend on the weights).

    python benchmarks/transformer_generation.py                 # 1024 tokens, batch 1 and 16
    python benchmarks/transformer_generation.py --batch 1 --tokens 256
    python benchmarks/transformer_generation.py --quick         # a small smoke run

Every re-forward step costs the same (the padded sequence is always ``max_len`` long),
so ``--reforward-tokens N`` times that loop on its first N tokens only when the full
count would take too long (its tokens are then compared on those N): on a 2-core CPU
its 1024 tokens at batch 16 take about 40 minutes, so the figures in
docs/music_transformer.md come from ``--reforward-tokens 128``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402


def timed(model, prompt: np.ndarray, n_tokens: int, use_cache: bool,
          jit: bool) -> tuple[np.ndarray, float]:
    """Generated ids (batch, n_tokens) and seconds of ``km.generate_sequence``, after a
    warm-up call with the same arguments (the loop is traced per number of tokens)."""
    def run():
        return km.generate_sequence(model, prompt, n_tokens, use_cache=use_cache,
                                    sampler=km.Sampler.greedy(), jit_compile=jit)

    run()
    start = time.perf_counter()
    ids = run()
    return ids, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1024, help="tokens generated per row")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--reforward-tokens", type=int, default=None,
                        help="time the re-forward loop on its first N tokens only")
    parser.add_argument("--prompt", type=int, default=1, help="prompt length")
    parser.add_argument("--vocab", type=int, default=388)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--max-len", type=int, default=None,
                        help="default: prompt + tokens, at least 1024")
    parser.add_argument("--xla", choices=["on", "off", "both"], default="on",
                        help="jit_compile for both loops")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()
    # A one-token prompt is a softmax over one key, which Keras warns about.
    warnings.filterwarnings("ignore", "You are using a softmax over axis -1")
    if args.quick:
        args.tokens, args.batch, args.layers, args.d_model, args.heads = 32, [1, 4], 2, 32, 2
        args.max_len = args.max_len or 64
    max_len = args.max_len or max(1024, args.prompt + args.tokens)
    if args.prompt + args.tokens > max_len:
        parser.error(f"--prompt + --tokens must be at most max_len ({max_len})")
    n_reforward = min(args.reforward_tokens or args.tokens, args.tokens)

    keras.utils.set_random_seed(0)
    model = km.build_music_transformer(args.vocab, max_len=max_len, n_layers=args.layers,
                                       d_model=args.d_model, n_heads=args.heads)
    print(f"model: build_music_transformer({args.vocab}, max_len={max_len}, "
          f"n_layers={args.layers}, d_model={args.d_model}, n_heads={args.heads}), "
          f"{model.count_params():,} weights; prompt {args.prompt} token(s), greedy")
    print(f"{args.tokens} tokens per row with the cache, {n_reforward} with the re-forward; "
          f"CPU threads: {os.cpu_count()}")
    rng = np.random.default_rng(0)
    for jit in {"on": [True], "off": [False], "both": [True, False]}[args.xla]:
        for batch in args.batch:
            prompt = rng.integers(0, args.vocab, (batch, args.prompt)).astype("int32")
            fast, t_cache = timed(model, prompt, args.tokens, True, jit)
            slow, t_full = timed(model, prompt, n_reforward, False, jit)
            rate_cache = batch * args.tokens / t_cache
            rate_full = batch * n_reforward / t_full
            same = np.array_equal(fast[:, :n_reforward], slow)
            print(f"XLA {'on ' if jit else 'off'} batch {batch:3d}: cache {rate_cache:9.1f} "
                  f"tokens/s, re-forward {rate_full:8.1f} tokens/s, ratio "
                  f"{rate_cache / rate_full:7.1f}x, same tokens: {same}", flush=True)


if __name__ == "__main__":
    main()
