"""The library's in-memory music: notes, tracks and pieces.

Every reader returns a :class:`Piece` and every writer takes one. Times are
exact quarter lengths held as :class:`fractions.Fraction` (one quarter note is
``Fraction(1)``), so triplets and dotted values never drift through floats.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

# MIDI note numbers are 0..127 inclusive.
MIN_PITCH = 0
MAX_PITCH = 127


def to_fraction(value: Any, max_denominator: int = 10_000) -> Fraction:
    """Return ``value`` (int, float, Fraction or "a/b" string) as a Fraction.

    Floats are rounded to the nearest fraction with a denominator of at most
    ``max_denominator`` so ``0.3333333`` becomes ``1/3``.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        return Fraction(value)
    return Fraction(value).limit_denominator(max_denominator)


class _Fractions(dict):
    """Fraction(text) by text, each made once: a piece's times repeat, and parsing one
    takes microseconds."""

    def __missing__(self, text: Any) -> Fraction:
        value = self[text] = Fraction(text)
        return value


@dataclasses.dataclass(frozen=True, order=True)
class Note:
    """One sounding note.

    Args:
        start: onset in quarter lengths from the start of the piece.
        duration: length in quarter lengths (> 0).
        pitch: MIDI note number, 0..127.
        velocity: MIDI velocity, 1..127.
    """

    start: Fraction
    duration: Fraction
    pitch: int
    velocity: int = 80

    @property
    def end(self) -> Fraction:
        """Offset of the note's end in quarter lengths."""
        return self.start + self.duration


_ORDER = operator.attrgetter("start", "duration", "pitch", "velocity")

# Tick values stay below this, so sums and products in the encoders fit in int64.
_MAX_TICKS = 2 ** 40


@dataclasses.dataclass(frozen=True, eq=False)
class NoteArrays:
    """Notes as int64 arrays, times in ticks of ``1 / ticks_per_quarter`` quarter note.

    Exact: ``start[i] / ticks_per_quarter`` is the i-th note's start as a Fraction.
    ``ordinary`` is True when every note starts at 0 or later and lasts more than 0 (the
    encoders' array paths assume it; other notes take the per-note reference path);
    ``largest`` is the largest start or duration in ticks.
    """

    start: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    ticks_per_quarter: int = 1

    @functools.cached_property
    def ordinary(self) -> bool:  # noqa: D102 (described in the class docstring)
        return bool(np.all(self.start >= 0) and np.all(self.duration > 0))

    @functools.cached_property
    def largest(self) -> int:  # noqa: D102
        return int(max(np.abs(self.start).max(), np.abs(self.duration).max())) \
            if len(self.start) else 0

    def __len__(self) -> int:
        return len(self.start)

    @property
    def end(self) -> np.ndarray:
        """End of each note in ticks."""
        return self.start + self.duration

    @classmethod
    def from_notes(cls, notes: Sequence[Note]) -> NoteArrays | None:
        """The notes as arrays, or None if their times need ticks too fine for int64."""
        starts = [n.start for n in notes]
        durations = [n.duration for n in notes]
        try:
            numerators = np.array([[f.numerator for f in starts],
                                   [f.numerator for f in durations]], np.int64).reshape(2, -1)
            denominators = np.array([[f.denominator for f in starts],
                                     [f.denominator for f in durations]], np.int64).reshape(2, -1)
        except OverflowError:
            return None
        tpq = int(np.lcm.reduce(np.unique(denominators), initial=1))
        if tpq > _MAX_TICKS or numerators.size and \
                int(np.abs(numerators).max()) * tpq > _MAX_TICKS * 2 ** 20:
            return None
        ticks = numerators * (tpq // denominators)
        if ticks.size and int(np.abs(ticks).max()) > _MAX_TICKS:
            return None
        return cls(ticks[0], ticks[1], np.array([n.pitch for n in notes], np.int64),
                   np.array([n.velocity for n in notes], np.int64), tpq)

    @classmethod
    def join(cls, parts: Sequence[NoteArrays], ticks_per_quarter: int) -> NoteArrays | None:
        """``parts`` concatenated on ``ticks_per_quarter`` (a multiple of each part's), or
        None if their ticks would come too close to overflowing int64."""
        scaled = [(p, ticks_per_quarter // p.ticks_per_quarter) for p in parts]
        if ticks_per_quarter > _MAX_TICKS or any(2 * p.largest * k > _MAX_TICKS
                                                 for p, k in scaled):
            return None
        if len(scaled) == 1:
            (part, k), = scaled
            return part if k == 1 else cls(part.start * k, part.duration * k, part.pitch,
                                           part.velocity, ticks_per_quarter)
        empty = np.zeros(0, np.int64)
        return cls(np.concatenate([p.start * k for p, k in scaled] or [empty]),
                   np.concatenate([p.duration * k for p, k in scaled] or [empty]),
                   np.concatenate([p.pitch for p, _ in scaled] or [empty]),
                   np.concatenate([p.velocity for p, _ in scaled] or [empty]),
                   ticks_per_quarter)

    def ticks(self, value: Fraction) -> int:
        """``value`` quarter notes in this object's ticks (exact when ``join`` included it)."""
        value = value if isinstance(value, Fraction) else Fraction(value)
        ticks, rest = divmod(value.numerator * self.ticks_per_quarter, value.denominator)
        if rest:
            raise ValueError(f"{value} is not a whole number of ticks")
        return ticks

    def order(self) -> np.ndarray:
        """Indices that sort the notes as :class:`Note` sorts (start, duration, pitch,
        velocity)."""
        return np.lexsort((self.velocity, self.pitch, self.duration, self.start))

    def take(self, index) -> NoteArrays:
        """The notes at ``index`` (indices or a boolean mask)."""
        return NoteArrays(self.start[index], self.duration[index], self.pitch[index],
                          self.velocity[index], self.ticks_per_quarter)


def track_groups(groups: Sequence[Sequence[Track]], *fractions: Fraction
                 ) -> list[NoteArrays] | None:
    """Each group of tracks' notes as one :class:`NoteArrays`, all on the same ticks
    (fine enough for the Fractions ``fractions`` too); None where the per-note reference
    path must run instead: ticks too fine for int64, or a note starting before 0 or not
    lasting."""
    parts = [[t.arrays() for t in group] for group in groups]
    if any(a is None or not a.ordinary for group in parts for a in group):
        return None
    tpq = math.lcm(*(a.ticks_per_quarter for group in parts for a in group),
                   *(f.denominator for f in fractions))
    joined = [NoteArrays.join(group, tpq) for group in parts]
    return None if any(j is None for j in joined) else joined


def round_div(a: np.ndarray, b: int) -> np.ndarray:
    """``round(a / b)`` for integer arrays and ``b > 0``, halves to even as Python rounds
    (``a`` itself when ``b == 1``: do not modify the result in place)."""
    if b == 1:
        return a
    q, r = np.divmod(a, b)
    twice = 2 * r
    return q + ((twice > b) | ((twice == b) & (q % 2 == 1)))


@dataclasses.dataclass
class Track:
    """A part or instrument: a name, a General MIDI program and its notes.

    Args:
        notes: the track's notes, sorted by start then pitch.
        name: the part or instrument name.
        program: General MIDI program number 0..127.
        is_drum: True for a percussion track (MIDI channel 10).
    """

    notes: list[Note]
    name: str = ""
    program: int = 0
    is_drum: bool = False

    def __post_init__(self) -> None:
        self.notes = sorted(self.notes, key=_ORDER)  # Note's order, without its slow __lt__

    def arrays(self) -> NoteArrays | None:
        """The notes as :class:`NoteArrays` (None if their ticks would overflow int64).

        Cached while ``notes`` holds the same Note objects (in the same order).
        """
        cached = self.__dict__.get("_arrays")
        # No Note objects yet (a track loaded from arrays), or the same ones: identical
        # items compare fast.
        if cached is not None and (cached[0] is None or cached[0] == self.notes):
            return cached[1]
        arrays = NoteArrays.from_notes(self.notes)
        self.__dict__["_arrays"] = (list(self.notes), arrays)
        return arrays

    @classmethod
    def from_sorted(cls, notes: list[Note], name: str = "", program: int = 0,
                    is_drum: bool = False) -> Track:
        """A Track of ``notes`` already sorted by start, duration, pitch and velocity,
        kept as given (sorting Fractions again costs a reader more than making them)."""
        track = cls.__new__(cls)
        track.notes, track.name, track.program, track.is_drum = notes, name, program, is_drum
        return track

    @classmethod
    def from_arrays(cls, arrays: NoteArrays, name: str = "", program: int = 0,
                    is_drum: bool = False, fractions: dict | None = None) -> Track:
        """A Track holding ``arrays`` (already in :meth:`NoteArrays.order`); its Note
        objects are made when :attr:`notes` is first read, not before.

        ``fractions``: a dict to share between tracks ((ticks, ticks per quarter) ->
        Fraction), so each time's Fraction is made once for all of them.
        """
        track = cls.__new__(cls)
        track.name, track.program, track.is_drum = name, program, is_drum
        track.__dict__["_arrays"] = (None, arrays)
        track.__dict__["_fractions"] = {} if fractions is None else fractions
        return track


def _get_notes(track: Track) -> list[Note]:
    state = track.__dict__
    notes = state.get("_notes")
    if notes is None:  # loaded from arrays: the Note objects are made on first use
        arrays = state["_arrays"][1]
        # get, not pop: two threads may make the same track's notes at once
        notes = state["_notes"] = _notes_of(arrays, state["_fractions"])
        state["_arrays"] = (list(notes), arrays)
    return notes


def _set_notes(track: Track, notes: list[Note]) -> None:
    track.__dict__["_notes"] = notes
    track.__dict__.pop("_arrays", None)


# Set after the dataclass is made, so its __init__, __eq__ and __repr__ go through it.
Track.notes = property(_get_notes, _set_notes,
                       doc="The track's notes, sorted by start, duration, pitch, velocity.")


def _notes_of(arrays: NoteArrays, fractions: dict) -> list[Note]:
    """Note objects of ``arrays``, their times from ``fractions`` ((ticks, ticks per quarter)
    -> Fraction, filled as needed)."""
    times, index = np.unique(np.concatenate([arrays.start, arrays.duration]),
                             return_inverse=True)
    tpq = arrays.ticks_per_quarter
    made = []
    for tick in times.tolist():
        value = fractions.get((tick, tpq))
        if value is None:
            value = fractions[tick, tpq] = Fraction(tick, tpq)
        made.append(value)
    times = list(map(made.__getitem__, index.tolist()))
    n = len(arrays)
    return list(map(Note, times[:n], times[n:], arrays.pitch.tolist(),
                    arrays.velocity.tolist()))


@dataclasses.dataclass
class Piece:
    """A piece of music: tracks plus the tempo and time signature.

    Args:
        tracks: the piece's tracks.
        tempo: quarter notes per minute at the start.
        time_signature: (numerator, denominator) at the start.
        name: where the piece came from (file path or corpus name).
        tempo_changes: later tempo changes as (time in quarters, quarter notes per
            minute), in time order; the tempo before the first is ``tempo``.
        repairs: what the reader had to repair to read the file, in words (e.g. ``"2
            notes of zero length dropped"``); empty for a clean read. Not compared.
    """

    tracks: list[Track]
    tempo: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    name: str = ""
    tempo_changes: list[tuple[Fraction, float]] = dataclasses.field(default_factory=list)
    repairs: list[str] = dataclasses.field(default_factory=list, compare=False, repr=False)

    @property
    def notes(self) -> list[Note]:
        """All pitched (non-drum) notes of every track, sorted by start then pitch."""
        return sorted(n for t in self.tracks if not t.is_drum for n in t.notes)

    @property
    def duration(self) -> Fraction:
        """End of the last note, in quarter lengths."""
        return max((n.end for t in self.tracks for n in t.notes), default=Fraction(0))

    def _meta(self, tracks: list[dict]) -> dict:
        """:meth:`to_dict` with ``tracks`` for its tracks."""
        data = {
            "name": self.name,
            "tempo": self.tempo,
            "time_signature": list(self.time_signature),
            "tempo_changes": [[str(t), q] for t, q in self.tempo_changes],
            "tracks": tracks,
        }
        if self.repairs:
            data["repairs"] = list(self.repairs)
        return data

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (times as "a/b" strings; ``repairs`` only when any)."""
        return self._meta([_track_dict(t) for t in self.tracks])

    def to_arrays(self) -> tuple[dict, np.ndarray]:
        """The piece as JSON-ready metadata and one int64 array (notes, 4).

        The array's rows are the notes of every track in turn: start and duration in
        ticks of the track's ``ticks_per_quarter``, pitch, velocity; each track's entry
        says how many rows are its (``"notes"``). A track whose times need ticks too fine
        for int64 keeps its notes in the metadata as in :meth:`to_dict`.
        """
        tracks, blocks = [], []
        for track in self.tracks:
            arrays = track.arrays()
            if arrays is None:
                tracks.append(_track_dict(track))
                continue
            tracks.append({"name": track.name, "program": track.program,
                           "is_drum": track.is_drum, "notes": len(arrays),
                           "ticks_per_quarter": arrays.ticks_per_quarter})
            blocks.append(np.stack([arrays.start, arrays.duration, arrays.pitch,
                                    arrays.velocity], axis=1))
        rows = np.concatenate(blocks) if blocks else np.zeros((0, 4), np.int64)
        return self._meta(tracks), rows

    @classmethod
    def from_dict(cls, data: dict) -> Piece:
        """Inverse of :meth:`to_dict`."""
        fraction = _Fractions()
        return cls._from_meta(data, [_track_from_dict(t, fraction) for t in data["tracks"]])

    @classmethod
    def from_arrays(cls, meta: dict, notes: np.ndarray, fractions: dict | None = None
                    ) -> Piece:
        """Inverse of :meth:`to_arrays`; each track keeps its arrays (:meth:`Track.arrays`)
        and makes its Note objects when ``notes`` is first read.

        ``fractions``: a dict to share between calls ((ticks, ticks per quarter) ->
        Fraction), so each time's Fraction is made once for a whole corpus.

        Raises:
            ValueError: ``notes`` has other rows than the metadata counts.
        """
        notes = np.asarray(notes, np.int64).reshape(-1, 4)
        fractions = {} if fractions is None else fractions
        tracks, row = [], 0
        for t in meta["tracks"]:
            if isinstance(t["notes"], list):
                tracks.append(_track_from_dict(t, _Fractions()))
                continue
            block = notes[row:row + int(t["notes"])]
            row += int(t["notes"])
            tracks.append(Track.from_arrays(
                NoteArrays(*(np.ascontiguousarray(column) for column in block.T),
                           int(t["ticks_per_quarter"])),
                str(t["name"]), int(t["program"]), bool(t["is_drum"]), fractions))
        if row != len(notes):
            raise ValueError(f"{len(notes)} note rows for the {row} the tracks count")
        return cls._from_meta(meta, tracks)

    @classmethod
    def _from_meta(cls, data: dict, tracks: list[Track]) -> Piece:
        return cls(
            tracks=tracks,
            tempo=float(data["tempo"]),
            time_signature=tuple(data["time_signature"]),
            name=data.get("name", ""),
            tempo_changes=[(Fraction(t), float(q)) for t, q in data.get("tempo_changes", [])],
            repairs=[str(r) for r in data.get("repairs", [])],
        )


def _track_dict(track: Track) -> dict:
    return {"name": track.name, "program": track.program, "is_drum": track.is_drum,
            "notes": [[str(n.start), str(n.duration), n.pitch, n.velocity]
                      for n in track.notes]}


def _track_from_dict(data: dict, fraction: _Fractions) -> Track:
    return Track(notes=[Note(fraction[s], fraction[d], int(p), int(v))
                        for s, d, p, v in data["notes"]],
                 name=data["name"], program=int(data["program"]), is_drum=bool(data["is_drum"]))


def spans_roll(start: np.ndarray, stop: np.ndarray, key: np.ndarray, n_steps: int,
               n_keys: int) -> np.ndarray:
    """A boolean roll (n_steps, n_keys), True in ``[start[i], stop[i])`` of key ``key[i]``:
    ``roll[a:b, k] = True`` for every span at once. Spans lie within 0..n_steps and are
    not empty (``start < stop``)."""
    roll = np.zeros(n_steps * n_keys, bool)
    length = stop - start
    # Span i's cells are entries first_i .. first_i + length_i - 1 of one list, first_i =
    # ends_i - length_i; entry j of span i is step j - first_i + start_i = j - (ends_i -
    # stop_i), flat index j * n_keys - ((ends_i - stop_i) * n_keys - key_i).
    ends = np.cumsum(length)
    if len(ends):
        offset = np.repeat((ends - stop) * n_keys - key, length)
        roll[np.arange(0, int(ends[-1]) * n_keys, n_keys) - offset] = True
    return roll.reshape(n_steps, n_keys)
