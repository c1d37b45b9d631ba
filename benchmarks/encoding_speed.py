"""Encoding the bundled chorales: the array encoders vs the per-note reference code.

Every encoder runs on the same pieces in this one process, first note by note (the
``_..._reference`` methods, today's code before the array paths, kept for notes the
arrays cannot hold), then on the notes' arrays. "arrays cold" includes making each
track's arrays from its Note objects (``Track.arrays()``, cached afterwards), "warm"
reuses them (as a corpus loaded from the cache comes with them). The outputs are
compared, so a ratio is never of different results.

    python benchmarks/encoding_speed.py              # the ~350 chorales
    python benchmarks/encoding_speed.py --limit 50 --repeat 1
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction

import numpy as np

import kerasmusic as km
from kerasmusic.data.events import EventEncoding
from kerasmusic.data.frames import FrameEncoding
from kerasmusic.data.note_tokens import NoteDurationEncoding
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.tones import ToneEncoding


def encoders():
    """(label, new encode, reference encode) of each representation."""
    roll4 = MultiTrackPianoRoll([0, 1, 2, 3])
    roll1 = MultiTrackPianoRoll([0], n_pitches=128, lowest_pitch=0)
    frames = FrameEncoding()
    repeats = FrameEncoding(separate_repeats=True)
    tokens = NoteDurationEncoding()
    split = NoteDurationEncoding(chords="split", grid=Fraction(1, 4))
    events = EventEncoding()
    tones = ToneEncoding()
    tones3 = ToneEncoding(tones_per_cell=3)
    return [
        ("piano roll, 4 tracks (MuseGAN)", roll4.to_roll, roll4._to_roll_reference),
        ("piano roll, 1 track", roll1.to_roll, roll1._to_roll_reference),
        ("frames (88 keys)", frames.encode, frames._encode_reference),
        ("frames, separate_repeats", repeats.encode, repeats._encode_reference),
        ("note/duration tokens", tokens.to_tokens, tokens._to_tokens_reference),
        ("tokens, split chords, grid 1/4", split.to_tokens, split._to_tokens_reference),
        ("events", events.encode, events._encode_reference),
        ("tones", tones.raw_cells, tones._raw_cells_reference),
        ("tones, 3 per cell", tones3.raw_cells, tones3._raw_cells_reference),
    ]


def timed(encode, pieces, repeat: int, cold: bool) -> tuple[float, list]:
    """Best time of ``repeat`` runs of ``encode`` over ``pieces``, and the outputs."""
    best = float("inf")
    for _ in range(repeat):
        if cold:
            for piece in pieces:
                for track in piece.tracks:
                    _ = track.notes  # made first: a track from the cache makes them from its arrays
                    track.__dict__.pop("_arrays", None)
        t0 = time.perf_counter()
        out = [encode(p) for p in pieces]
        best = min(best, time.perf_counter() - t0)
    return best, out


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    pieces = list(km.load_corpus("chorales", limit=args.limit, progress=False))
    n_notes = sum(len(t.notes) for p in pieces for t in p.tracks)
    print(f"{len(pieces)} chorales, {n_notes:,} notes; best of {args.repeat}\n")
    print(f"{'encoding':34} {'per note':>9} {'arrays cold':>12} {'warm':>8} "
          f"{'ratio cold':>11} {'warm':>7}")
    totals = np.zeros(3)
    for label, new, reference in encoders():
        t_old, old_out = timed(reference, pieces, args.repeat, cold=False)
        t_cold, _ = timed(new, pieces, args.repeat, cold=True)
        t_warm, new_out = timed(new, pieces, args.repeat, cold=False)
        if not all(same(a, b) for a, b in zip(old_out, new_out)):
            raise SystemExit(f"{label}: the array encoder differs from the reference")
        totals += (t_old, t_cold, t_warm)
        print(f"{label:34} {t_old:8.3f}s {t_cold:11.3f}s {t_warm:7.3f}s "
              f"{t_old / t_cold:10.1f}x {t_old / t_warm:6.1f}x")
    print(f"{'all of the above':34} {totals[0]:8.3f}s {totals[1]:11.3f}s {totals[2]:7.3f}s "
          f"{totals[0] / totals[1]:10.1f}x {totals[0] / totals[2]:6.1f}x")
    print("outputs identical: yes")


if __name__ == "__main__":
    main()
