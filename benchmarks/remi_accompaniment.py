"""Does a REMI accompaniment Transformer follow its given track? Tonal distance, in one run.

Trains ``train_music_transformer(tokens="remi", condition_track=0, condition_bars=1)``
on the four-part chorales (no transposed copies, to keep the run short) for
``--max-seconds``, then for ``--n`` held-out chorales (the trainer's split, at most
its 35; their first ``--bars`` bars) generates the lower voices around the soprano and measures the
tonal distance (TD, Harte et al.; lower = closer harmony; per beat where both sound,
:func:`~kerasmusic.roll_metrics.tonal_centroid` of each side's pitch classes weighted
by sounding time) between the soprano and the generated voices:

- ``matched``: the accompaniment generated for this soprano;
- ``mismatched``: the accompaniment the same model generated for another held-out
  soprano (the next one), against this soprano: an accompaniment that does not listen;
- ``real``: the chorale's own lower voices, for reference.

    python benchmarks/remi_accompaniment.py --max-seconds 300 --n 32
"""

from __future__ import annotations

import argparse
import os
import time
from fractions import Fraction

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402
from kerasmusic.roll_metrics import tonal_centroid  # noqa: E402


def _chroma(notes, beat: int) -> np.ndarray:
    out = np.zeros(12)
    for n in notes:
        overlap = min(n.end, Fraction(beat + 1)) - max(n.start, Fraction(beat))
        if overlap > 0:
            out[n.pitch % 12] += float(overlap)
    return out


def tonal_distances(melody, accompaniment, n_beats: int) -> list[float]:
    """TD per beat where both the melody notes and the accompaniment notes sound."""
    out = []
    for beat in range(n_beats):
        a, b = _chroma(melody, beat), _chroma(accompaniment, beat)
        if a.any() and b.any():
            out.append(float(np.linalg.norm(tonal_centroid(a) - tonal_centroid(b))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--n", type=int, default=32, help="held-out chorales")
    parser.add_argument("--bars", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    pieces = [p for p in km.load_corpus("chorales", progress=False).pieces
              if len(p.tracks) == 4]
    began = time.perf_counter()
    result = km.train_music_transformer(
        pieces, tokens="remi", condition_track=0, condition_bars=1, seq_len=args.seq_len,
        n_layers=2, d_model=64, n_heads=4, batch_size=32, max_seconds=args.max_seconds,
        seed=args.seed, verbose=0, transpose=None)
    trained = time.perf_counter() - began
    enc = result.encoding
    stream = result.quality.streams[0]
    print(f"trained {trained:.0f} s ({len(result.history['loss'])} epochs); held-out NLL "
          f"{stream.model:.3f} nats/token, bigram {stream.bigram:.3f}")

    held = result.validation_pieces[:args.n]
    bar = Fraction(enc.bar_steps((4, 4)), enc.resolution)
    scores = {"matched": [], "mismatched": [], "real": []}
    made = []
    began = time.perf_counter()
    for i, piece in enumerate(held):
        end = bar * args.bars
        cropped = km.Piece(enc.span_tracks(piece.tracks, Fraction(0), end), tempo=piece.tempo,
                           time_signature=piece.time_signature, name=piece.name)
        out = km.generate_accompaniment(result.model, enc, cropped, track=0,
                                        temperature=args.temperature, seed=args.seed + i)[0]
        made.append((cropped, [n for t in out.tracks[1:] for n in t.notes]))
    n_beats = int(bar * args.bars)
    closer = 0
    for i, (piece, accompaniment) in enumerate(made):
        melody = piece.tracks[0].notes
        other = made[(i + 1) % len(made)][1]
        matched = tonal_distances(melody, accompaniment, n_beats)
        mismatched = tonal_distances(melody, other, n_beats)
        closer += bool(matched and mismatched and np.mean(matched) < np.mean(mismatched))
        scores["matched"] += matched
        scores["mismatched"] += mismatched
        scores["real"] += tonal_distances(melody, [n for t in piece.tracks[1:]
                                                   for n in t.notes], n_beats)
    print(f"generated {len(made)} accompaniments of {args.bars} bars in "
          f"{time.perf_counter() - began:.0f} s; mean notes per accompaniment "
          f"{np.mean([len(a) for _, a in made]):.1f}")
    for name, values in scores.items():
        error = np.std(values) / np.sqrt(len(values))
        print(f"TD soprano vs {name:10s} {np.mean(values):.3f} +- {error:.3f} "
              f"(mean +- standard error over {len(values)} beats)")
    print(f"matched closer than mismatched on {closer} of {len(made)} sopranos")


if __name__ == "__main__":
    main()
