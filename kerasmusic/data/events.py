"""Note events [note, velocity, time]: the representation of the event LSTM (seed 003).

A piece becomes the stream of its MIDI note messages, one event per message:

- ``note``: the key, ``pitch - lowest_pitch`` (88 classes for the piano's A0..C8);
- ``velocity``: 0..127 (128 classes); 0 is a note-off, as in a MIDI ``note_on``
  message with velocity 0, so the note's length is the time until its off event;
- ``time``: the time since the previous message, in quarter notes, quantised into
  12 classes. Class 0 is exactly 0 (a chord, or an off and an on at the same
  instant) and nothing else; the other classes cover ranges of time, each decoded as
  one value. With the default ``time_values`` the classes are:

  =====  =================================  =========
  class  time t since the previous event    decodes to
  =====  =================================  =========
  0      t = 0                              0
  1      0 < t < 3/16                       1/8
  2      3/16 <= t < 7/24                   1/4
  3      7/24 <= t < 5/12                   1/3
  4      5/12 <= t < 7/12                   1/2
  5      7/12 <= t < 17/24                  2/3
  6      17/24 <= t < 7/8                   3/4
  7      7/8 <= t < 5/4                     1
  8      5/4 <= t < 7/4                     3/2
  9      7/4 <= t < 5/2                     2
  10     5/2 <= t < 7/2                     3
  11     t >= 7/2                           4
  =====  =================================  =========

  Each edge is the midpoint of the two values beside it. Times are measured from
  the *decoded* position of the previous event, so rounding errors do not pile up
  over a piece: a gap that rounds short is made up at the next event.

At one instant, note-offs come before note-ons, each low to high. Two notes of the
same key that overlap (unisons of two voices) are cut where the second starts, so
every on has its off. Times are in quarter notes, so a piece's tempo does not
change its events. Notes outside the key range are left out, with a warning.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import tensorflow as tf

from kerasmusic.data.config_schema import FRACTION, FRACTIONS, INT, TRACKS
from kerasmusic.data.frames import (
    PIANO_KEYS,
    PIANO_LOWEST,
    _windows_dataset,
    encode_pieces,
    keyboard_arrays,
    keyboard_notes,
    split_encoded_pieces,
)
from kerasmusic.data.json_config import JsonConfigMixin
from kerasmusic.data.notes import Note, NoteArrays, Piece, Track
from kerasmusic.errors import EncodingError, KerasMusicError, VocabularyMismatchError

N_VELOCITIES = 128
DEFAULT_TIME_VALUES = ("1/8", "1/4", "1/3", "1/2", "2/3", "3/4", "1", "3/2", "2", "3", "4")
HEADS = ("note", "velocity", "time")


class EventEncoding(JsonConfigMixin):
    """Pieces <-> int32 event arrays (events, 3) of [note, velocity, time class].

    Args:
        seq_len: events per input window (30 in the seed).
        lowest_pitch: MIDI number of note class 0 (21 = A0).
        n_pitches: note classes (88 piano keys).
        time_values: the value of each time class after class 0, increasing, in
            quarter notes (Fractions or "a/b" strings); 11 values make 12 classes.
        tracks: track numbers to read; None merges every pitched (non-drum) track.
        chord_tolerance: gaps shorter than this (quarter notes) count as 0, for
            performed MIDI whose chords are not quite together. Default 0: only an
            exact 0 is class 0.
    """

    CONFIG_TYPE = "events"
    CONFIG_NAME = "an event encoding"
    CONFIG_SCHEMA = {"seq_len": (INT, True), "lowest_pitch": (INT, True),
                     "n_pitches": (INT, True), "time_values": (FRACTIONS, True),
                     "tracks": (TRACKS, False), "chord_tolerance": (FRACTION, False)}

    def __init__(self, seq_len: int = 30, lowest_pitch: int = PIANO_LOWEST,
                 n_pitches: int = PIANO_KEYS,
                 time_values: Sequence[Fraction | str] = DEFAULT_TIME_VALUES,
                 tracks: Sequence[int] | None = None,
                 chord_tolerance: Fraction | str = Fraction(0)):
        if seq_len < 1:
            raise KerasMusicError(f"seq_len must be at least 1, got {seq_len}")
        if n_pitches < 1 or lowest_pitch < 0 or lowest_pitch + n_pitches > 128:
            raise KerasMusicError(f"keys {lowest_pitch}..{lowest_pitch + n_pitches - 1} leave "
                                  "the MIDI range 0..127")
        values = [Fraction(v) for v in time_values]
        if not values or values[0] <= 0 or any(b <= a for a, b in zip(values, values[1:])):
            raise KerasMusicError(f"time_values must be positive and increasing, got "
                                  f"{[str(v) for v in values]}")
        self.seq_len = int(seq_len)
        self.lowest_pitch, self.n_pitches = int(lowest_pitch), int(n_pitches)
        self.time_values = values
        self.tracks = None if tracks is None else [int(t) for t in tracks]
        self.chord_tolerance = Fraction(chord_tolerance)
        # Computed once: time_class runs for every message of every piece.
        self._time_edges = [(a + b) / 2 for a, b in zip(values, values[1:])]
        self._ticks: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
        if not 0 <= self.chord_tolerance <= values[0]:
            raise KerasMusicError(f"chord_tolerance must be in [0, {values[0]}], got "
                                  f"{chord_tolerance}")

    @property
    def highest_pitch(self) -> int:
        """MIDI number of the last note class."""
        return self.lowest_pitch + self.n_pitches - 1

    @property
    def pitch_range(self) -> tuple[int, int]:
        """(lowest, highest) MIDI pitch held: transposition keeps notes inside it."""
        return self.lowest_pitch, self.highest_pitch

    @property
    def n_velocities(self) -> int:
        """Velocity classes: 128 (0 = note-off)."""
        return N_VELOCITIES

    @property
    def n_times(self) -> int:
        """Time classes: one for 0 plus one per time value (12 by default)."""
        return len(self.time_values) + 1

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Classes of each head: (note, velocity, time)."""
        return (self.n_pitches, self.n_velocities, self.n_times)

    @property
    def time_edges(self) -> list[Fraction]:
        """Lower edge of classes 2, 3, ...: the midpoints between neighbouring values."""
        return list(self._time_edges)

    def time_class(self, time: Fraction | float | int) -> int:
        """The class of a time since the previous event (quarter notes); see the module."""
        time = Fraction(time)
        if time <= 0 or time < self.chord_tolerance:
            return 0
        return 1 + bisect.bisect_right(self._time_edges, time)

    def time_value(self, time_class: int) -> Fraction:
        """The time (quarter notes) a class decodes to."""
        if not 0 <= time_class < self.n_times:
            raise KerasMusicError(f"time class must be in 0..{self.n_times - 1}, got "
                                  f"{time_class}")
        return Fraction(0) if time_class == 0 else self.time_values[time_class - 1]

    def messages(self, piece: Piece) -> list[tuple[Fraction, int, int]]:
        """The piece's note messages (time in quarters, MIDI pitch, velocity; 0 = off).

        Raises:
            EncodingError: the piece (named) has no pitched note in the key range.
        """
        kept = keyboard_notes(piece, self.tracks, self.lowest_pitch, self.highest_pitch,
                              stacklevel=4)
        by_pitch: dict[int, list[Note]] = {}
        for n in kept:
            by_pitch.setdefault(n.pitch, []).append(n)
        messages = []
        for pitch, same in by_pitch.items():
            same.sort(key=lambda n: (n.start, -n.duration))
            onsets = [n.start for n in same]
            previous = None
            for i, n in enumerate(same):
                if n.start == previous:
                    continue  # struck twice at once: keep the longer (sorted first)
                previous = n.start
                following = bisect.bisect_right(onsets, n.start, lo=i)
                end = n.end if following == len(same) else min(n.end, onsets[following])
                messages.append((n.start, 1, pitch, max(1, min(127, n.velocity))))
                messages.append((end, 0, pitch, 0))
        messages.sort()  # by time, offs (0) before ons (1), then by pitch
        return [(t, p, v) for t, _, p, v in messages]

    def encode(self, piece: Piece) -> np.ndarray:
        """The piece's events, int32 (events, 3): [pitch - lowest_pitch, velocity, time class].

        Raises:
            EncodingError: the piece (named) has no pitched note in the key range.
        """
        kept = keyboard_arrays(piece, self.tracks, self.lowest_pitch, self.highest_pitch,
                               *self.time_values, *self._time_edges, self.chord_tolerance,
                               stacklevel=3)
        if kept is None:
            return self._encode_reference(piece)
        # Per key, by onset, the longest first: a second onset at the same time is dropped
        # and a note is cut at its key's next onset (as messages() does).
        by_key = np.lexsort((kept.velocity, -kept.duration, kept.start, kept.pitch))
        notes = kept.take(by_key)
        first = np.ones(len(notes), bool)
        first[1:] = (notes.pitch[1:] != notes.pitch[:-1]) | (notes.start[1:] != notes.start[:-1])
        notes = notes.take(first)
        end = notes.end
        same_key_next = np.append(notes.pitch[1:] == notes.pitch[:-1], False)
        end[same_key_next] = np.minimum(end[same_key_next], notes.start[1:][same_key_next[:-1]])
        n = len(notes)
        time = np.concatenate([notes.start, end])
        is_on = np.repeat([1, 0], n)
        pitch = np.concatenate([notes.pitch, notes.pitch])
        velocity = np.concatenate([np.clip(notes.velocity, 1, 127), np.zeros(n, np.int64)])
        order = np.lexsort((velocity, pitch, is_on, time))
        out = np.stack([pitch[order] - self.lowest_pitch, velocity[order],
                        self._time_classes(time[order], kept)], axis=1)
        return out.astype(np.int32)

    def _time_classes(self, times: np.ndarray, ticks: NoteArrays) -> np.ndarray:
        """Time class of each message at ``times`` (ticks), measured from the decoded
        position of the one before, as :meth:`encode` defines."""
        tpq = ticks.ticks_per_quarter
        if tpq not in self._ticks:  # the same few ticks_per_quarter come back piece after piece
            self._ticks[tpq] = (np.array([ticks.ticks(e) for e in self._time_edges], np.int64),
                                np.array([0] + [ticks.ticks(v) for v in self.time_values],
                                         np.int64), ticks.ticks(self.chord_tolerance))
        edges, values, tolerance = self._ticks[tpq]

        def classes(gaps):
            return np.where((gaps <= 0) | (gaps < tolerance), 0,
                            1 + np.searchsorted(edges, gaps, side="right"))

        # Where each gap decodes to itself the position is the message's own time, and
        # the classes follow from the gaps at once; elsewhere it is walked message by
        # message until the position catches up with a message's time again.
        gaps = np.diff(times, prepend=0)
        out = classes(gaps)
        exact = values[out] == gaps
        i = int(np.argmin(exact)) if len(exact) else 0
        while i < len(times) and not exact[i]:
            position = int(times[i - 1]) if i else 0
            while i < len(times):
                c = int(classes(np.int64(int(times[i]) - position)))
                out[i] = c
                position += int(values[c])
                i += 1
                if position == int(times[i - 1]):
                    break
            rest = np.flatnonzero(~exact[i:])
            i = i + int(rest[0]) if len(rest) else len(times)
        return out

    def _encode_reference(self, piece: Piece) -> np.ndarray:
        """:meth:`encode` message by message, for notes :func:`keyboard_arrays` cannot take."""
        out, position = [], Fraction(0)
        for time, pitch, velocity in self.messages(piece):
            time_class = self.time_class(time - position)
            position += self.time_value(time_class)
            out.append((pitch - self.lowest_pitch, velocity, time_class))
        return np.asarray(out, np.int32).reshape(-1, 3)

    def decode(self, events, *, tempo: float = 120.0, name: str = "generated",
               program: int = 0) -> Piece:
        """Events (events, 3) -> a one-track Piece.

        A note runs from its on event to the next off (or on) of its key; a note whose
        off comes at its own onset, or that is still sounding at the end, lasts until
        the last event or at least the shortest time value. A second on of a sounding
        key at the same instant and an off of a silent key are ignored.

        Raises:
            EncodingError: the array has the wrong shape or a class out of range.
        """
        events = np.asarray(events)
        if events.ndim != 2 or events.shape[1] != 3:
            raise EncodingError(name, f"expected events of shape (events, 3), got "
                                      f"{events.shape}")
        for column, size, head in zip(events.T, self.sizes, HEADS):
            if len(column) and (column.min() < 0 or column.max() >= size):
                raise EncodingError(name, f"{head} classes must be in 0..{size - 1}, got "
                                          f"{column.min()}..{column.max()}")
        shortest = self.time_values[0]
        position = Fraction(0)
        sounding: dict[int, tuple[Fraction, int]] = {}
        notes = []

        def close(pitch: int) -> None:
            start, velocity = sounding.pop(pitch)
            notes.append(Note(start, max(position - start, shortest), pitch, velocity))

        for key, velocity, time_class in events.tolist():
            position += self.time_value(time_class)
            pitch = key + self.lowest_pitch
            if velocity == 0:
                if pitch in sounding:
                    close(pitch)
            elif pitch not in sounding:
                sounding[pitch] = (position, velocity)
            elif sounding[pitch][0] < position:
                close(pitch)
                sounding[pitch] = (position, velocity)
        for pitch in list(sounding):
            close(pitch)
        return Piece([Track(notes, name="events", program=program)], tempo=tempo, name=name)

    def one_hot(self, events) -> np.ndarray:
        """The seed's input vectors: [one-hot note | one-hot velocity | one-hot time] per event."""
        events = np.asarray(events, np.int64).reshape(-1, 3)
        parts = [np.eye(size, dtype=np.float32)[events[:, i]] for i, size in
                 enumerate(self.sizes)]
        return np.concatenate(parts, axis=1)

    def check_model(self, model) -> None:
        """Raise VocabularyMismatchError unless ``model``'s heads have this encoding's sizes."""
        sizes = tuple(int(t.shape[-1]) for t in model.outputs)
        if sizes != self.sizes:
            raise VocabularyMismatchError(
                f"the model predicts {sizes} classes (note, velocity, time), the event encoding "
                f"has {self.sizes}: not the encoding it was trained with")

    def get_config(self) -> dict:
        """JSON-ready description."""
        return {"type": "events", "seq_len": self.seq_len, "lowest_pitch": self.lowest_pitch,
                "n_pitches": self.n_pitches, "time_values": [str(v) for v in self.time_values],
                "tracks": self.tracks, "chord_tolerance": str(self.chord_tolerance)}


def event_windows(events: np.ndarray, seq_len: int) -> np.ndarray:
    """Every window of ``seq_len + 1`` consecutive events: (n, seq_len + 1, 3) int32.

    The first ``seq_len`` events are the input, the last the target. A sequence of
    ``seq_len`` events or fewer gives none.
    """
    events = np.asarray(events, np.int32).reshape(-1, 3)
    n = len(events) - seq_len
    if n <= 0:
        return np.zeros((0, seq_len + 1, 3), np.int32)
    view = np.lib.stride_tricks.sliding_window_view(events, (seq_len + 1, 3))[:, 0]
    return np.ascontiguousarray(view)


def _split_events(w):
    target = w[:, -1]
    return w[:, :-1], {"note": target[:, 0], "velocity": target[:, 1], "time": target[:, 2]}


def _event_windows_of(arrays, indices, seq_len) -> np.ndarray:
    windows = [event_windows(arrays[i], seq_len) for i in indices]
    return np.concatenate(windows) if windows else np.zeros((0, seq_len + 1, 3), np.int32)


def event_dataset(
    pieces: Sequence[Piece],
    encoding: EventEncoding,
    batch_size: int = 64,
    *,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of (windows (B, seq_len, 3), {"note", "velocity", "time"}: (B,)) int32.

    Raises:
        EncodingError: a piece has no note in the key range (names the piece).
        KerasMusicError: no piece is longer than ``seq_len`` events.
    """
    _, arrays = encode_pieces(pieces, encoding.encode)
    windows = _event_windows_of(arrays, range(len(arrays)), encoding.seq_len)
    if not len(windows):
        raise KerasMusicError(f"no piece has more than seq_len={encoding.seq_len} events")
    return _windows_dataset(windows, batch_size, shuffle, seed, _split_events)


def make_event_datasets(
    pieces: Sequence[Piece],
    encoding: EventEncoding,
    batch_size: int = 64,
    validation_fraction: float = 0.1,
    seed: int = 0,
    *,
    on_error: str = "raise",
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """Split whole pieces 9:1 (``validation_fraction``) and make (train, validation).

    Pieces with identical events are kept once before the split. Pieces of
    ``seq_len`` events or fewer give no window; ``on_error="skip"`` leaves out
    pieces without notes in the key range instead of raising.

    Raises:
        KerasMusicError: the training pieces give no window.
    """
    split = split_encoded_pieces(pieces, encoding, validation_fraction, seed,
                                 on_error=on_error)
    return event_arrays_datasets(split.train, split.validation, encoding, batch_size, seed)


def event_arrays_datasets(
    train: Sequence[np.ndarray], val: Sequence[np.ndarray], encoding: EventEncoding,
    batch_size: int = 64, seed: int = 0, *, copies: Sequence[np.ndarray] = (),
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """:func:`make_event_datasets` from event arrays already split (:func:`split_encoded_pieces`).

    ``copies`` (e.g. the transposed copies, ``split.augmented[len(split.train):]``)
    are trained on too but not counted in the warning about pieces too short to give
    a window. The validation dataset (None if no validation piece gives a window) is
    unshuffled.
    """
    arrays = [*train, *val]
    short = sum(len(a) <= encoding.seq_len for a in arrays)
    if short:
        warnings.warn(f"kerasmusic: {short} of {len(arrays)} pieces have "
                      f"seq_len={encoding.seq_len} events or fewer and give no window",
                      stacklevel=3)
    train = [*train, *copies]
    train_windows = _event_windows_of(train, range(len(train)), encoding.seq_len)
    if not len(train_windows):
        raise KerasMusicError(f"no training piece has more than seq_len={encoding.seq_len} "
                              f"events (longest: {max(len(a) for a in arrays)})")
    val_windows = _event_windows_of(val, range(len(val)), encoding.seq_len)
    train_ds = _windows_dataset(train_windows, batch_size, True, seed, _split_events)
    val_ds = (_windows_dataset(val_windows, batch_size, False, seed, _split_events)
              if len(val_windows) else None)
    return train_ds, val_ds
