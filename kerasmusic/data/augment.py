"""Transposition augmentation: each training piece also seen in other keys.

One mechanism for every representation: a representation says which MIDI pitches
it can hold (its ``pitch_range``: 0..127 for tokens and events, the 88 keys for
frames, the roll's rows for MuseGAN) and :func:`transposed_copies` keeps a shifted
copy only where every pitched note stays inside that range. Augmentation is for
training pieces only: the trainers split by piece first and never shift a
validation piece, so held-out figures are measured on the music as written.

The GANs have no held-out pieces and many phrases: MuseGAN shifts its phrases as
they stream (:func:`random_phrase_transpose`: each phrase of each batch by one of the
shifts that keeps all its notes on the roll, drawn from the seed), so an epoch keeps
its length and the phrase array is not copied twelve times; the C-RNN-GAN crops its
tones from :func:`transposed_copies` of its pieces.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import tensorflow as tf

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


def copies_only(
    pieces: Sequence[Piece],
    shifts: Sequence[int] | None = DEFAULT_SHIFTS,
    *,
    pitch_range: tuple[int, int] = (MIN_PITCH, MAX_PITCH),
    seed: int = 0,
) -> list[Piece]:
    """Only the transposed copies :func:`transposed_copies` adds (not the pieces)."""
    originals = {id(p) for p in pieces}
    return [c for c in transposed_copies(pieces, shifts, pitch_range=pitch_range, seed=seed)
            if id(c) not in originals]


def random_phrase_transpose(rolls, shifts: Sequence[int], seed, *,
                            drums: Sequence[bool] | None = None):
    """Each phrase of a batch moved up or down the pitch axis by a shift that fits it.

    Args:
        rolls: a batch of MuseGAN phrases (batch, bars, steps, pitches, tracks),
            +1 where a note sounds and -1 elsewhere.
        shifts: the semitone shifts to choose from (0, no shift, is always one).
        seed: a stateless seed, shape (2,) integers: the same seed, the same shifts.
        drums: per track, True for a drum track, which is never moved.

    Returns:
        The batch, each phrase shifted by a shift drawn uniformly from those that keep
        every pitched note on the roll (a silent phrase is left as it is).
    """
    rolls = tf.convert_to_tensor(rolls)
    n_pitches = rolls.shape[3]
    moves = tf.constant(sorted({0, *(int(s) for s in shifts)}), tf.int32)
    on = rolls > 0
    drum_mask = tf.constant([bool(d) for d in drums] if drums else
                            [False] * rolls.shape[4])
    active = tf.reduce_any(on & ~drum_mask, axis=[1, 2, 4])  # (batch, pitches)
    index = tf.range(n_pitches, dtype=tf.int32)
    lowest = tf.reduce_min(tf.where(active, index, n_pitches), axis=1)
    highest = tf.reduce_max(tf.where(active, index, -1), axis=1)
    fits = (lowest[:, None] + moves[None] >= 0) & (highest[:, None] + moves[None] < n_pitches)
    draws = tf.random.stateless_uniform(tf.shape(fits), tf.cast(seed, tf.int64))
    shift = tf.gather(moves, tf.argmax(tf.where(fits, draws, -1.0), axis=1))  # (batch,)
    source = index[None] - shift[:, None]  # new pitch p holds old pitch p - shift
    moved = tf.gather(rolls, tf.clip_by_value(source, 0, n_pitches - 1), axis=3, batch_dims=1)
    inside = (source >= 0) & (source < n_pitches)
    moved = tf.where(inside[:, None, None, :, None], moved, tf.cast(-1, rolls.dtype))
    return tf.where(drum_mask, rolls, moved)
