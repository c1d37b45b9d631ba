"""Does a MuseGAN accompaniment follow its given track? Tonal distance, in one run.

For ``--n`` real phrases (drawn with the seed) the accompaniment generator gets each
phrase's given track(s) and makes the other tracks; an unconditional generator of the
same shape makes whole phrases, whose given track(s) are then replaced by the same
real ones. For every generated track this prints its tonal distance (TD, Harte et
al.; lower = closer harmony, averaged over the beats where both sound) to the given
track for both generators, and for reference the real phrases' own TD:

    python benchmarks/accompaniment.py --conditional runs/acc/generator.keras \\
        --unconditional runs/musegan/generator.keras --corpus chorales --normalize-key

Both generators must share the encoding (tracks, grid, pitches); the real phrases come
from the corpus with that encoding, keys moved to C major / A minor with
``--normalize-key`` as in training.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402
from kerasmusic.generation.musegan import condition_tracks_of, generate_rolls  # noqa: E402
from kerasmusic.roll_metrics import tonal_distance  # noqa: E402
from kerasmusic.training.musegan import encode_phrases  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditional", required=True, help="accompaniment generator")
    parser.add_argument("--unconditional", required=True, help="unconditional generator")
    parser.add_argument("--corpus", default="chorales")
    parser.add_argument("--normalize-key", action="store_true")
    parser.add_argument("--n", type=int, default=200, help="phrases")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    conditional = km.load_model(args.conditional, compile=False)
    unconditional = km.load_model(args.unconditional, compile=False)
    encoding = km.load_encoding(args.conditional)
    if km.load_encoding(args.unconditional).shape != encoding.shape:
        raise SystemExit("the two generators' encodings differ in shape")
    given = condition_tracks_of(conditional)
    if not given or condition_tracks_of(unconditional):
        raise SystemExit("--conditional must accompany given tracks, --unconditional not")
    pieces = km.load_corpus(args.corpus).pieces
    if args.normalize_key:
        pieces = [km.normalize_key(p) for p in pieces]
    real = encode_phrases(pieces, encoding)
    picks = np.random.default_rng(args.seed).choice(len(real), args.n, replace=False)
    real = real[picks]

    accompanied = encoding.binarize(generate_rolls(conditional, args.n, seed=args.seed,
                                                   condition=real[..., given]))
    free = encoding.binarize(generate_rolls(unconditional, args.n, seed=args.seed))
    free[..., given] = real[..., given]

    low = encoding.lowest_pitch
    names = encoding.track_names
    print(f"{args.n} real phrases of {args.corpus}; given track(s) "
          f"{', '.join(names[g] for g in given)}; TD to the given track (lower: closer)")
    print(f"  {'track':14s} {'accompaniment':>14s} {'unconditional':>14s} {'real':>8s}")
    wins = 0
    for g in given:
        for t in (t for t in range(len(names)) if t not in given):
            a, u, r = (tonal_distance(rolls, g, t, low) for rolls in (accompanied, free, real))
            wins += a < u
            print(f"  {names[t]:14s} {a:14.3f} {u:14.3f} {r:8.3f}")
    pairs = len(given) * (len(names) - len(given))
    print(f"accompaniment closer to the given track on {wins} of {pairs} tracks")


if __name__ == "__main__":
    main()
