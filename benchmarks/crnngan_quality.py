"""C-RNN-GAN against its MLE baseline on the chorales: whose statistics are closer to Bach's?

Trains the recurrent C-RNN-GAN with the chorale recipe (MLE pre-training with a length
curriculum, then adversarial training with the standard GAN loss, freezing and Adam at
1e-4; ``--feature-matching --g-learning-rate 1e-3 --d-learning-rate 1e-3`` is the
paper's) and its
baseline (the same generator, the same number of epochs, MLE only), generates ``--n``
pieces of ``--seq-len`` tones from each, and prints the six statistics of the paper
(``kerasmusic.metrics``) for the held-out chorales cut to the same length, the
baseline and the GAN, with the distance of each to the real value and which is closer.

    python benchmarks/crnngan_quality.py                   # the documented recipe
    python benchmarks/crnngan_quality.py --quick           # a smoke run (minutes)

Each model's training time is printed; the statistics depend on the seed.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import kerasmusic as km  # noqa: E402
from kerasmusic import metrics  # noqa: E402
from kerasmusic.training.crnngan import CRNNGANConfig, train_crnngan  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--steps-per-epoch", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n", type=int, default=200, help="generated pieces of each model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--feature-matching", action="store_true",
                        help="train the generator by feature matching (the paper) instead of "
                             "the standard GAN loss (the recipe: feature matching matches the "
                             "means of the critic's features, not their spread)")
    parser.add_argument("--g-learning-rate", type=float, default=1e-4)
    parser.add_argument("--d-learning-rate", type=float, default=1e-4)
    parser.add_argument("--freeze-threshold", type=float, default=0.7)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.units, args.seq_len, args.epochs, args.pretrain_epochs = 16, 16, 3, 1
        args.steps_per_epoch, args.n = 4, 8

    corpus = km.load_corpus("chorales")
    train, held_out = km.split_pieces(corpus.pieces, validation_fraction=0.2, seed=args.seed)
    config = CRNNGANConfig(units=args.units, feature_matching=args.feature_matching,
                           g_learning_rate=args.g_learning_rate,
                           d_learning_rate=args.d_learning_rate,
                           freeze_threshold=args.freeze_threshold)
    results, seconds = {}, {}
    for name, pretrain in (("baseline (MLE)", args.epochs), ("C-RNN-GAN", args.pretrain_epochs)):
        started = time.monotonic()
        results[name] = train_crnngan(train, seq_len=args.seq_len, epochs=args.epochs,
                                      pretrain_epochs=pretrain, batch_size=args.batch_size,
                                      steps_per_epoch=args.steps_per_epoch, config=config,
                                      seed=args.seed, verbose=False)
        seconds[name] = time.monotonic() - started
        print(f"{name}: trained in {seconds[name]:.0f} s", flush=True)

    encoding = results["C-RNN-GAN"].encoding
    rows = {"real (held out)": metrics.music_statistics(
        [encoding.decode(encoding.encode(p)[:args.seq_len]) for p in held_out])}
    for name, result in results.items():
        samples = result.gan.generate(args.n, args.seq_len, seed=args.seed + 1)
        rows[name] = metrics.music_statistics([result.encoding.decode(s) for s in samples])
    print(f"\n{len(held_out)} held-out chorales cut to {args.seq_len} tones; {args.n} "
          f"generated pieces of each model ({args.units} units, {args.epochs} epochs of "
          f"{args.steps_per_epoch} batches, {args.pretrain_epochs} of them MLE for the GAN; "
          f"{'feature matching' if args.feature_matching else 'standard loss'}, learning rates "
          f"G {args.g_learning_rate:g} D {args.d_learning_rate:g})")
    print(metrics.format_table(rows))
    real = rows["real (held out)"]
    wins = 0
    print("\ndistance to the real value: baseline / GAN")
    for stat, value in real.items():
        base = abs(rows["baseline (MLE)"][stat] - value)
        gan = abs(rows["C-RNN-GAN"][stat] - value)
        closer = gan < base
        wins += closer and not math.isnan(gan)
        print(f"  {stat:18s} {base:9.3f} / {gan:9.3f}  {'GAN closer' if closer else ''}")
    print(f"the GAN is closer to the real chorales on {wins} of {len(real)} statistics "
          "(target: at least 4)")


if __name__ == "__main__":
    main()
