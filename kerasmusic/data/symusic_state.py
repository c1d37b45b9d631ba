"""A symusic score's tracks, tempos, time signatures and markers, read from its bytes.

Asking a :class:`symusic.core.ScoreTick` for its contents through its Python API costs
microseconds an object (``track.notes.numpy()`` alone ~12 us a track), more than
symusic takes to parse a small track chunk. Its pickled state (``__getstate__``, a
copy of its C++ containers: counts, then the events as stored) is read here instead,
a few ``struct`` reads a list; each track's notes stay bytes, so a file's notes are
read with one ``numpy.frombuffer`` (:func:`notes_array`). The layout is symusic's own,
not a documented format: :data:`READABLE` says whether this symusic's state reads back
as its API gives it (checked once, on a score holding every kind of event), and
:func:`read_state` is used only then (the reader asks the API otherwise).
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np
from symusic.core import (
    ControlChangeTick,
    KeySignatureTick,
    NoteTick,
    PedalTick,
    PitchBendTick,
    ScoreTick,
    TempoTick,
    TextMetaTick,
    TimeSignatureTick,
    TrackTick,
)

#: A note as symusic stores it (time, duration, pitch, velocity, 2 bytes of padding).
NOTE = np.dtype([("time", "<i4"), ("duration", "<i4"), ("pitch", "i1"),
                 ("velocity", "i1"), ("pad", "V2")])
_NOTE_SIZE = NOTE.itemsize
_TEMPO = struct.Struct("<ii")  # time, microseconds a quarter
_SIGNATURE = struct.Struct("<iBB2x")  # time, numerator, denominator
_count = struct.Struct("<I").unpack_from
_track_head = struct.Struct("<BBI").unpack_from  # program, is_drum, notes
_NONE_OF_THREE, _NONE_OF_FOUR = bytes(12), bytes(16)  # (counts of 0, as stored)
_text_head = struct.Struct("<iI").unpack_from  # time, bytes
_EIGHT = 8  # bytes of a control change, pitch bend, pedal, key signature as stored


@dataclasses.dataclass(slots=True)
class State:
    """What :func:`read_state` reads.

    Args:
        tracks: (program, is_drum, notes) of each track, the notes as bytes (or a
            memoryview of them): :data:`NOTE` records (time, duration, pitch,
            velocity, padding; :func:`notes_array` reads them).
        tempos: (time, microseconds a quarter) of each tempo, in symusic's order.
        signatures: (time, numerator, denominator) of each time signature.
        markers: (time, text as bytes) of each marker.
    """

    tracks: list[tuple[int, bool, bytes]]
    tempos: list[tuple[int, int]]
    signatures: list[tuple[int, int, int]]
    markers: list[tuple[int, bytes]]


def read_state(score: ScoreTick) -> State | None:
    """The contents of ``score`` read from its state; None if the state does not read
    as expected (then ask symusic's API)."""
    data = score.__getstate__()
    view = memoryview(data)  # (the notes are not copied out: a big file's are many pages)
    count = _count
    try:
        pos, tracks = 8, []
        for _ in range(count(data, 4)[0]):
            end = pos + 4 + count(data, pos)[0]  # past the name
            program, drum, notes = _track_head(data, end)
            pos = end + 6 + _NOTE_SIZE * notes
            tracks.append((program, drum != 0, view[end + 6:pos]))
            if data[pos:pos + 16] == _NONE_OF_FOUR:  # most tracks: no control, bend...
                pos += 16
                continue
            for _ in range(3):  # controls, pitch bends, pedals
                pos += 4 + _EIGHT * count(data, pos)[0]
            _, pos = _texts(data, pos)  # lyrics
        if data[pos:pos + 12] == _NONE_OF_THREE:  # most chunks: no signature, key, tempo
            signatures, tempos, pos = [], [], pos + 12
        else:
            signatures, pos = _events(data, pos, _SIGNATURE)
            pos += 4 + _EIGHT * count(data, pos)[0]  # key signatures
            tempos, pos = _events(data, pos, _TEMPO)
        if count(data, pos)[0] == 1:  # most chunks: one marker, the reader's
            time, size = _text_head(data, pos + 4)
            markers = [(time, data[pos + 12:pos + 12 + size])]
            pos += 12 + size
        else:
            markers, pos = _texts(data, pos)
    except (struct.error, ValueError):
        return None
    return State(tracks, tempos, signatures, markers) if pos == len(data) else None


def notes_array(notes: bytes) -> np.ndarray:
    """:data:`NOTE` records as an (n, 3) int32 array: time, duration, then a word whose
    first two bytes are the pitch and velocity (signed), read-only."""
    return np.frombuffer(notes, "<i4").reshape(-1, 3)


def _events(data: bytes, pos: int, layout: struct.Struct) -> tuple[list[tuple], int]:
    """The list of ``layout`` records at ``pos`` and the offset past it."""
    end = pos + 4 + layout.size * _count(data, pos)[0]
    if end > len(data):
        raise ValueError("a list past the end")
    return list(layout.iter_unpack(data[pos + 4:end])), end


def _texts(data: bytes, pos: int) -> tuple[list[tuple[int, bytes]], int]:
    """The (time, text) list at ``pos`` and the offset past it."""
    texts = []
    count = _count(data, pos)[0]
    pos += 4
    for _ in range(count):
        time, size = _text_head(data, pos)
        if pos + 8 + size > len(data):
            raise ValueError("a text past the end")
        texts.append((time, data[pos + 8:pos + 8 + size]))
        pos += 8 + size
    return texts, pos


def _readable() -> bool:
    """Whether a score holding every kind of event reads back from its state as
    symusic's API gives it."""
    score = ScoreTick(96)
    for name, program, drum in (("ab", 5, True), ("c", 70, False)):
        track = TrackTick(name, program, drum)
        track.notes.append(NoteTick(1, 2, 60, 70))
        track.notes.append(NoteTick(3, 4, 61, 0))
        track.controls.append(ControlChangeTick(3, 7, 100))
        track.pitch_bends.append(PitchBendTick(4, -200))
        track.pedals.append(PedalTick(5, 6))
        track.lyrics.append(TextMetaTick(7, "la"))
        score.tracks.append(track)
    score.time_signatures.append(TimeSignatureTick(8, 3, 8))
    score.key_signatures.append(KeySignatureTick(9, -2, 1))
    score.tempos.append(TempoTick(10, mspq=400_000))
    score.markers.append(TextMetaTick(11, "mark"))
    state = read_state(score)
    if state is None:
        return False
    expected = [(int(t.program), bool(t.is_drum),
                 [(n.time, n.duration, n.pitch, n.velocity) for n in t.notes])
                for t in score.tracks]
    got = [(p, d, np.frombuffer(n, NOTE)[["time", "duration", "pitch", "velocity"]].tolist())
           for p, d, n in state.tracks]
    return (got == expected
            and state.tempos == [(t.time, t.mspq) for t in score.tempos]
            and state.signatures == [(t.time, t.numerator, t.denominator)
                                     for t in score.time_signatures]
            and state.markers == [(m.time, m.text.encode()) for m in score.markers])


try:
    READABLE = _readable()
except Exception:  # noqa: BLE001 (any failure: the reader asks symusic's API instead)
    READABLE = False
