"""The library's in-memory music: notes, tracks and pieces.

Every reader returns a :class:`Piece` and every writer takes one. Times are
exact quarter lengths held as :class:`fractions.Fraction` (one quarter note is
``Fraction(1)``), so triplets and dotted values never drift through floats.
"""

from __future__ import annotations

import dataclasses
import operator
from fractions import Fraction
from typing import Any

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

    @classmethod
    def from_sorted(cls, notes: list[Note], name: str = "", program: int = 0,
                    is_drum: bool = False) -> Track:
        """A Track of ``notes`` already sorted by start, duration, pitch and velocity,
        kept as given (sorting Fractions again costs a reader more than making them)."""
        track = cls.__new__(cls)
        track.notes, track.name, track.program, track.is_drum = notes, name, program, is_drum
        return track


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

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (times as "a/b" strings; ``repairs`` only when any)."""
        data = {
            "name": self.name,
            "tempo": self.tempo,
            "time_signature": list(self.time_signature),
            "tempo_changes": [[str(t), q] for t, q in self.tempo_changes],
            "tracks": [
                {
                    "name": t.name,
                    "program": t.program,
                    "is_drum": t.is_drum,
                    "notes": [
                        [str(n.start), str(n.duration), n.pitch, n.velocity] for n in t.notes
                    ],
                }
                for t in self.tracks
            ],
        }
        if self.repairs:
            data["repairs"] = list(self.repairs)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Piece:
        """Inverse of :meth:`to_dict`."""
        fraction = _Fractions()
        tracks = [
            Track(
                notes=[
                    Note(fraction[s], fraction[d], int(p), int(v)) for s, d, p, v in t["notes"]
                ],
                name=t["name"],
                program=int(t["program"]),
                is_drum=bool(t["is_drum"]),
            )
            for t in data["tracks"]
        ]
        return cls(
            tracks=tracks,
            tempo=float(data["tempo"]),
            time_signature=tuple(data["time_signature"]),
            name=data.get("name", ""),
            tempo_changes=[(Fraction(t), float(q)) for t, q in data.get("tempo_changes", [])],
            repairs=[str(r) for r in data.get("repairs", [])],
        )
