"""88-key multi-hot frames: the representation of the polyphonic piano-roll RNN.

A piece becomes a matrix (frames, 88): one row per time step of ``step`` quarter
notes (default 1/4, a sixteenth note), one column per piano key (MIDI 21 = A0 up to
108 = C8), 1 where the key sounds. Every pitched track is merged (or only the tracks
chosen). By default (``frame_rule="cover"``) a note covers the frames from its
rounded onset to its rounded end, at least one, so no note is lost; with
``frame_rule="sample"`` a frame holds the notes sounding at its start, the way the
JSB Chorales rolls of the literature are sampled (a note between two frame starts is
dropped, and a frame holds what one hears on the beat, not every passing note).
Notes outside the key range are left out, with a warning.

Decoding merges consecutive sounding frames of a key into one held note: a plain
roll cannot tell a held note from the same note struck again. With
``separate_repeats=True`` the encoder leaves the last frame of a note silent when the
same key is struck again right after it, so repeats survive the round trip (each
repeated note comes back one step shorter).

The ``tf.data`` pipeline cuts each piece into windows of ``seq_len`` frames with the
next frame as the target at every step (inputs ``frames[t:t+L]``, targets
``frames[t+1:t+L+1]``), and splits whole pieces into training and validation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import warnings
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import tensorflow as tf

from kerasmusic.data.config_schema import BOOL, FRACTION, INT, STRING, TRACKS
from kerasmusic.data.json_config import JsonConfigMixin
from kerasmusic.data.limits import check_cells
from kerasmusic.data.notes import (
    Note,
    NoteArrays,
    Piece,
    Track,
    round_div,
    spans_roll,
    track_groups,
)
from kerasmusic.data.pipeline import split_pieces
from kerasmusic.errors import EncodingError, KerasMusicError, VocabularyMismatchError

PIANO_LOWEST = 21  # A0
PIANO_KEYS = 88  # A0..C8
#: How notes become frames (see the module docstring).
FRAME_RULES = ("cover", "sample")


def keyboard_notes(piece: Piece, tracks: Sequence[int] | None, lowest: int, highest: int,
                   *, stacklevel: int = 2) -> list[Note]:
    """The piece's notes (all pitched tracks, or ``tracks``) with pitches in lowest..highest.

    Notes outside the range are left out with a warning (``stacklevel`` points it at
    the caller's caller).

    Raises:
        EncodingError: the piece (named) has no such note.
    """
    if tracks is None:
        notes = piece.notes
    else:
        notes = sorted(n for i in tracks if i < len(piece.tracks)
                       and not piece.tracks[i].is_drum for n in piece.tracks[i].notes)
    kept = [n for n in notes if lowest <= n.pitch <= highest]
    if not kept:
        where = "pitched notes" if tracks is None else f"notes in tracks {tracks}"
        raise EncodingError(piece.name, f"no {where} in the key range {lowest}.."
                                        f"{highest} ({len(notes)} outside it)")
    if len(kept) < len(notes):
        warnings.warn(f"kerasmusic: {piece.name or 'piece'}: {len(notes) - len(kept)} notes "
                      f"outside the keys {lowest}..{highest} left out", stacklevel=stacklevel)
    return kept


def keyboard_arrays(piece: Piece, tracks: Sequence[int] | None, lowest: int, highest: int,
                    *fractions: Fraction, stacklevel: int = 2) -> NoteArrays | None:
    """:func:`keyboard_notes` as :class:`NoteArrays` on ticks fine enough for
    ``fractions`` too (unsorted), with the same warning and error; None where the
    per-note path must run (see :func:`~kerasmusic.data.notes.track_groups`)."""
    if tracks is None:
        chosen = [t for t in piece.tracks if not t.is_drum]
    else:
        chosen = [piece.tracks[i] for i in tracks
                  if i < len(piece.tracks) and not piece.tracks[i].is_drum]
    groups = track_groups([chosen], *fractions)
    if groups is None:
        return None
    notes = groups[0]
    inside = (notes.pitch >= lowest) & (notes.pitch <= highest)
    kept = int(inside.sum())
    if not kept:
        where = "pitched notes" if tracks is None else f"notes in tracks {tracks}"
        raise EncodingError(piece.name, f"no {where} in the key range {lowest}.."
                                        f"{highest} ({len(notes)} outside it)")
    if kept < len(notes):
        warnings.warn(f"kerasmusic: {piece.name or 'piece'}: {len(notes) - kept} notes "
                      f"outside the keys {lowest}..{highest} left out", stacklevel=stacklevel)
    return notes.take(inside)


class FrameEncoding(JsonConfigMixin):
    """Pieces <-> multi-hot frames (frames, n_pitches).

    Args:
        step: quarter notes per frame (a Fraction or "a/b"; 1/4 = sixteenth notes).
        lowest_pitch: MIDI number of column 0 (21 = A0, the lowest piano key).
        n_pitches: number of keys (88: A0..C8).
        tracks: track numbers to read; None merges every pitched (non-drum) track.
        separate_repeats: silence the last frame of a note when the same key starts
            again right after it, so decoding gives two notes, not one (see module).
        frame_rule: ``"cover"`` (a note covers its rounded span, at least one frame)
            or ``"sample"`` (a frame holds the notes sounding at its start; see module).
        velocity: velocity of decoded notes.
        program: General MIDI program of the decoded track (0 = piano).
    """

    CONFIG_TYPE = "frames"
    CONFIG_NAME = "a frame encoding"
    CONFIG_SCHEMA = {"step": (FRACTION, True), "lowest_pitch": (INT, True),
                     "n_pitches": (INT, True), "tracks": (TRACKS, False),
                     "separate_repeats": (BOOL, False), "velocity": (INT, False),
                     "program": (INT, False), "frame_rule": (STRING, False)}

    def __init__(self, step: Fraction | str = Fraction(1, 4), lowest_pitch: int = PIANO_LOWEST,
                 n_pitches: int = PIANO_KEYS, tracks: Sequence[int] | None = None,
                 separate_repeats: bool = False, velocity: int = 80, program: int = 0,
                 frame_rule: str = "cover"):
        self.step = Fraction(step)
        if frame_rule not in FRAME_RULES:
            raise KerasMusicError(f"frame_rule must be one of {FRAME_RULES}, got {frame_rule!r}")
        self.frame_rule = frame_rule
        if self.step <= 0:
            raise KerasMusicError(f"step must be a positive number of quarter notes, got {step}")
        if n_pitches < 1 or lowest_pitch < 0 or lowest_pitch + n_pitches > 128:
            raise KerasMusicError(f"keys {lowest_pitch}..{lowest_pitch + n_pitches - 1} leave "
                                  "the MIDI range 0..127")
        if not 1 <= velocity <= 127 or not 0 <= program <= 127:
            raise KerasMusicError(f"velocity must be in 1..127 and program in 0..127, got "
                                  f"{velocity} and {program}")
        self.lowest_pitch, self.n_pitches = int(lowest_pitch), int(n_pitches)
        self.tracks = None if tracks is None else [int(t) for t in tracks]
        self.separate_repeats = bool(separate_repeats)
        self.velocity, self.program = int(velocity), int(program)

    @property
    def highest_pitch(self) -> int:
        """MIDI number of the last column."""
        return self.lowest_pitch + self.n_pitches - 1

    @property
    def pitch_range(self) -> tuple[int, int]:
        """(lowest, highest) MIDI pitch held: transposition keeps notes inside it."""
        return self.lowest_pitch, self.highest_pitch

    def encode(self, piece: Piece) -> np.ndarray:
        """The piece as float32 frames (frames, n_pitches) of 0 and 1.

        Raises:
            EncodingError: the piece (named) has no pitched note in the key range (or,
                with ``frame_rule="sample"``, none sounding at a frame's start), or would
                take more frames than a piece may (:data:`~kerasmusic.data.limits.MAX_CELLS`).
        """
        kept = keyboard_arrays(piece, self.tracks, self.lowest_pitch, self.highest_pitch,
                               self.step, stacklevel=3)
        if kept is None:
            return self._encode_reference(piece)
        step = kept.ticks(self.step)
        key = kept.pitch - self.lowest_pitch
        if self.frame_rule == "sample":
            # Frames f with start <= f * step < end.
            a, b = -(-kept.start // step), -(-kept.end // step)
            sounding = b > a
            if not sounding.any():
                raise EncodingError(piece.name, f"no note sounds at the start of a frame of "
                                                f"{self.step} quarter notes")
            a, b, key = a[sounding], b[sounding], key[sounding]
        else:
            a = round_div(kept.start, step)
            b = np.maximum(a + 1, round_div(kept.end, step))
        n_frames = int(b.max())
        check_cells(piece.name, (n_frames, self.n_pitches), "frame roll")
        if self.separate_repeats:
            struck_again = np.isin(b * self.n_pitches + key, a * self.n_pitches + key)
            b = b - ((b - a > 1) & struck_again)
        return spans_roll(a, b, key, n_frames, self.n_pitches).astype(np.float32)

    def _encode_reference(self, piece: Piece) -> np.ndarray:
        """:meth:`encode` note by note, for notes :func:`keyboard_arrays` cannot take."""
        kept = keyboard_notes(piece, self.tracks, self.lowest_pitch, self.highest_pitch,
                              stacklevel=4)
        if self.frame_rule == "sample":
            spans = [(math.ceil(n.start / self.step), math.ceil(n.end / self.step),
                      n.pitch - self.lowest_pitch) for n in kept]
            spans = [s for s in spans if s[1] > s[0]]
            if not spans:
                raise EncodingError(piece.name, f"no note sounds at the start of a frame of "
                                                f"{self.step} quarter notes")
        else:
            spans = [(round(n.start / self.step), n) for n in kept]
            spans = [(a, max(a + 1, round(n.end / self.step)), n.pitch - self.lowest_pitch)
                     for a, n in spans]
        n_frames = max(b for _, b, _ in spans)
        check_cells(piece.name, (n_frames, self.n_pitches), "frame roll")
        frames = np.zeros((n_frames, self.n_pitches), np.float32)
        starts = {(a, k) for a, _, k in spans}
        for a, b, k in spans:
            if self.separate_repeats and b - a > 1 and (b, k) in starts:
                b -= 1
            frames[a:b, k] = 1.0
        return frames

    def decode(self, frames, *, tempo: float = 120.0, name: str = "generated") -> Piece:
        """Frames (values > 0.5 sound) -> a one-track Piece; runs of a key become one note."""
        frames = np.asarray(frames)
        if frames.ndim != 2 or frames.shape[1] != self.n_pitches:
            raise EncodingError(name, f"expected frames of shape (frames, {self.n_pitches}), "
                                      f"got {frames.shape}")
        on = frames > 0.5
        notes = []
        for k in range(self.n_pitches):
            column = np.concatenate([[False], on[:, k], [False]])
            edges = np.flatnonzero(column[1:] != column[:-1])
            for a, b in zip(edges[::2], edges[1::2]):
                notes.append(Note(int(a) * self.step, int(b - a) * self.step,
                                  k + self.lowest_pitch, self.velocity))
        return Piece([Track(notes, name="piano", program=self.program)], tempo=tempo, name=name)

    def check_model(self, model) -> None:
        """Raise VocabularyMismatchError unless ``model`` reads and predicts n_pitches keys."""
        sizes = {int(t.shape[-1]) for t in [*model.inputs, *model.outputs]}
        if sizes != {self.n_pitches}:
            raise VocabularyMismatchError(
                f"the model reads/predicts frames of {sorted(sizes)} keys, the frame encoding "
                f"has {self.n_pitches}: not the encoding it was trained with")

    def get_config(self) -> dict:
        """JSON-ready description."""
        return {"type": "frames", "step": str(self.step), "lowest_pitch": self.lowest_pitch,
                "n_pitches": self.n_pitches, "tracks": self.tracks,
                "separate_repeats": self.separate_repeats, "velocity": self.velocity,
                "program": self.program, "frame_rule": self.frame_rule}


def frame_windows(frames: np.ndarray, seq_len: int, hop: int | None = None) -> np.ndarray:
    """Windows of ``seq_len + 1`` frames (inputs are ``w[:-1]``, targets ``w[1:]``).

    Windows start every ``hop`` frames (default ``seq_len // 2``), and the last one
    ends at the last frame. A piece shorter than ``seq_len + 1`` frames is padded with
    silence (the silence after a piece ends). Returns uint8 (n, seq_len + 1, keys).
    """
    if seq_len < 1:
        raise KerasMusicError(f"seq_len must be at least 1, got {seq_len}")
    hop = max(1, seq_len // 2) if hop is None else int(hop)
    if hop < 1:
        raise KerasMusicError(f"hop must be at least 1, got {hop}")
    frames = np.asarray(frames, np.uint8)
    if len(frames) < seq_len + 1:
        frames = np.pad(frames, ((0, seq_len + 1 - len(frames)), (0, 0)))
    last = len(frames) - seq_len - 1
    starts = sorted(set(range(0, last + 1, hop)) | {last})
    return np.stack([frames[s:s + seq_len + 1] for s in starts])


def encode_pieces(pieces: Sequence[Piece], encode, *, on_error: str = "raise"
                  ) -> tuple[list[Piece], list[np.ndarray]]:
    """Encode every piece once, keeping the first of pieces that encode identically.

    Args:
        pieces: the pieces.
        encode: the encoding's ``encode`` method.
        on_error: ``"raise"`` the first :class:`EncodingError`, or ``"skip"`` pieces
            that cannot be encoded (with one warning naming how many and the first).

    Returns:
        (kept pieces, their arrays).
    """
    if on_error not in ("raise", "skip"):
        raise KerasMusicError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    seen, kept, arrays, failed = set(), [], [], []
    for piece in pieces:
        try:
            array = encode(piece)
        except EncodingError as exc:
            if on_error == "raise":
                raise
            failed.append(exc)
            continue
        key = hashlib.sha256(array.tobytes() + str(array.shape).encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            kept.append(piece)
            arrays.append(array)
    if failed:
        warnings.warn(f"kerasmusic: {len(failed)} of {len(pieces)} pieces cannot be encoded and "
                      f"are left out (first: {failed[0]})", stacklevel=3)
    if not kept:
        raise KerasMusicError("no piece could be encoded" +
                              (f": {failed[0]}" if failed else " (no pieces given)"))
    return kept, arrays


def _windows_dataset(windows: np.ndarray, batch_size: int, shuffle: bool, seed: int, split):
    ds = tf.data.Dataset.from_tensor_slices(windows)
    if shuffle:
        ds = ds.shuffle(len(windows), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(split).prefetch(tf.data.AUTOTUNE)


def _split_frames(w):
    w = tf.cast(w, tf.float32)
    return w[:, :-1], w[:, 1:]


def rolls_dataset(arrays: Sequence[np.ndarray], seq_len: int = 64, hop: int | None = None,
                  batch_size: int = 32, *, shuffle: bool = True, seed: int = 0
                  ) -> tf.data.Dataset:
    """:func:`frame_dataset` from rolls already encoded (e.g. by :func:`split_encoded_pieces`)."""
    windows = np.concatenate([frame_windows(a, seq_len, hop) for a in arrays])
    return _windows_dataset(windows, batch_size, shuffle, seed, _split_frames)


def frame_dataset(
    pieces: Sequence[Piece],
    encoding: FrameEncoding,
    seq_len: int = 64,
    hop: int | None = None,
    batch_size: int = 32,
    *,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of (frames (B, seq_len, keys), next frames (B, seq_len, keys)), float32.

    Raises:
        EncodingError: a piece has no note in the key range (names the piece).
    """
    _, arrays = encode_pieces(pieces, encoding.encode)
    return rolls_dataset(arrays, seq_len, hop, batch_size, shuffle=shuffle, seed=seed)


@dataclasses.dataclass
class EncodedSplit:
    """Arrays of a piece-level split (:func:`split_encoded_pieces`).

    Attributes:
        train: the training pieces' arrays, as written.
        validation: the held-out pieces' arrays (never transposed).
        augmented: ``train`` followed by the arrays of the training pieces'
            transposed copies (``train`` itself without augmentation).
    """

    train: list[np.ndarray]
    validation: list[np.ndarray]
    augmented: list[np.ndarray]


def split_encoded_pieces(
    pieces: Sequence[Piece],
    encoding,
    validation_fraction: float = 0.1,
    seed: int = 0,
    *,
    on_error: str = "raise",
    transpose: Sequence[int] | None = None,
) -> EncodedSplit:
    """Encode ``pieces`` (frames, events: any ``encoding.encode``) and split them, seeded.

    Pieces that encode to the same array are kept once before the split, so no
    piece is on both sides; the validation list is empty when ``validation_fraction``
    is 0 or there is a single piece. ``on_error`` as in :func:`encode_pieces`.
    ``transpose`` (semitone shifts, e.g. :data:`~kerasmusic.data.augment.DEFAULT_SHIFTS`)
    adds transposed copies of the training pieces that stay in the encoding's
    ``pitch_range`` (:func:`~kerasmusic.data.augment.transposed_copies`) to
    ``augmented``; validation pieces are never shifted.
    """
    from kerasmusic.data.augment import copies_only, pitch_range_of

    kept, arrays = encode_pieces(pieces, encoding.encode, on_error=on_error)
    train, val = split_pieces(list(range(len(arrays))), validation_fraction, seed)
    train_arrays = [arrays[i] for i in train]
    augmented = list(train_arrays)
    if transpose:
        copies = copies_only([kept[i] for i in train], transpose,
                             pitch_range=pitch_range_of(encoding), seed=seed)
        if copies:
            augmented += encode_pieces(copies, encoding.encode, on_error="skip")[1]
    return EncodedSplit(train_arrays, [arrays[i] for i in val], augmented)


def make_frame_datasets(
    pieces: Sequence[Piece],
    encoding: FrameEncoding,
    seq_len: int = 64,
    hop: int | None = None,
    batch_size: int = 32,
    validation_fraction: float = 0.1,
    seed: int = 0,
    *,
    on_error: str = "raise",
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """Split whole pieces into training and validation and make both datasets.

    The split is :func:`split_encoded_pieces`'. The validation dataset is None when
    ``validation_fraction`` is 0 or there is a single piece. ``on_error="skip"``
    leaves out pieces without notes in the key range instead of raising.
    """
    split = split_encoded_pieces(pieces, encoding, validation_fraction, seed,
                                 on_error=on_error)
    train, val = split.train, split.validation
    return (rolls_dataset(train, seq_len, hop, batch_size, shuffle=True, seed=seed),
            rolls_dataset(val, seq_len, hop, batch_size, shuffle=False) if val else None)
