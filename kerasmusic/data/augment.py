"""Transposition augmentation: each training piece also seen in other keys.

One mechanism for every representation: a representation says which MIDI pitches
it can hold (its ``pitch_range``: 0..127 for tokens and events, the 88 keys for
frames, the roll's rows for MuseGAN) and :func:`transposed_copies` keeps a shifted
copy only where every pitched note stays inside that range. Augmentation is for
training pieces only: the trainers split by piece first and never shift a
validation piece, so held-out figures are measured on the music as written.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from kerasmusic.data.notes import MAX_PITCH, MIN_PITCH, Piece
from kerasmusic.data.transforms import transpose
from kerasmusic.errors import KerasMusicError

#: Semitone shifts the trainers use by default: every key once, a fifth down to a
#: tritone up, so no copy moves further than half an octave.
DEFAULT_SHIFTS: tuple[int, ...] = tuple(range(-5, 7))


def pitch_range_of(encoding) -> tuple[int, int]:
    """The (lowest, highest) MIDI pitch a representation holds, both inclusive.

    Encodings declare it as ``pitch_range``; one that does not holds all of MIDI.
    """
    low, high = getattr(encoding, "pitch_range", (MIN_PITCH, MAX_PITCH))
    return int(low), int(high)


def _pitch_span(piece: Piece) -> tuple[int, int] | None:
    pitches = [n.pitch for t in piece.tracks if not t.is_drum for n in t.notes]
    return (min(pitches), max(pitches)) if pitches else None


def transposed_copies(
    pieces: Sequence[Piece],
    shifts: Sequence[int] | None = DEFAULT_SHIFTS,
    *,
    pitch_range: tuple[int, int] = (MIN_PITCH, MAX_PITCH),
    per_piece: int | None = None,
    seed: int = 0,
) -> list[Piece]:
    """Every piece of ``pieces`` followed by its transposed copies.

    Args:
        pieces: training pieces.
        shifts: semitone shifts to try (0 is the piece itself and is always kept
            once). None or empty: no augmentation, ``pieces`` as they are.
        pitch_range: (lowest, highest) pitch the representation holds; a shift that
            would move any pitched note outside it is skipped for that piece.
        per_piece: keep only this many of the fitting non-zero shifts per piece,
            chosen at random with ``seed`` (None: all of them).
        seed: fixes the choice of shifts when ``per_piece`` is set.

    Returns:
        A new list: for each piece, the piece, then its copies in ``shifts`` order.
        Drum tracks are never shifted.
    """
    low, high = int(pitch_range[0]), int(pitch_range[1])
    if low > high:
        raise KerasMusicError(f"pitch_range {pitch_range} is empty")
    if per_piece is not None and per_piece < 0:
        raise KerasMusicError(f"per_piece must be >= 0 or None, got {per_piece}")
    moves = [] if not shifts else list(dict.fromkeys(int(s) for s in shifts if int(s) != 0))
    rng = random.Random(seed)
    out: list[Piece] = []
    for piece in pieces:
        out.append(piece)
        span = _pitch_span(piece)
        if span is None:
            continue
        fitting = [s for s in moves if low <= span[0] + s and span[1] + s <= high]
        if per_piece is not None and per_piece < len(fitting):
            fitting = sorted(rng.sample(fitting, per_piece), key=fitting.index)
        out.extend(transpose(piece, s) for s in fitting)
    return out
