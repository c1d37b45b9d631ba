"""A symusic score's tracks, tempos, time signatures and markers, read from its bytes.

Asking a :class:`symusic.core.ScoreTick` for its contents through its Python API costs
microseconds an object (``track.notes.numpy()`` alone ~12 us a track), more than
symusic takes to parse a small track chunk. Its pickled state (``__getstate__``, a
copy of its C++ containers: counts, then the events as stored) is read here with one
``numpy.frombuffer`` a list instead. The layout is symusic's own, not a documented
format: :data:`READABLE` says whether this symusic's state reads back as its API gives
it (checked once, on a score holding every kind of event), and :func:`read_state`
is used only then (the reader asks the API otherwise).
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
_TEMPO = np.dtype([("time", "<i4"), ("mspq", "<i4")])
_SIGNATURE = np.dtype([("time", "<i4"), ("numerator", "u1"), ("denominator", "u1"),
                       ("pad", "V2")])
_COUNT = struct.Struct("<I")
_EIGHT = 8  # bytes of a control change, pitch bend, pedal, key signature as stored


@dataclasses.dataclass
class State:
    """What :func:`read_state` reads.

    Args:
        tracks: (name as bytes, program, is_drum, notes) of each track, the notes an (n, 3) int32
            array of :data:`NOTE` records: time, duration, then a word whose first two
            bytes are the pitch and velocity (signed).
        tempos: (time, microseconds a quarter) of each tempo, in symusic's order.
        signatures: (time, numerator, denominator) of each time signature.
        markers: (time, text as bytes) of each marker.
    """

    tracks: list[tuple[bytes, int, bool, np.ndarray]]
    tempos: list[tuple[int, int]]
    signatures: list[tuple[int, int, int]]
    markers: list[tuple[int, bytes]]


def read_state(score: ScoreTick) -> State | None:
    """The contents of ``score`` read from its state; None if the state does not read
    as expected (then ask symusic's API)."""
    data = score.__getstate__()
    try:
        pos, tracks = 8, []
        for _ in range(_COUNT.unpack_from(data, 4)[0]):
            size = _COUNT.unpack_from(data, pos)[0]
            name = data[pos + 4:pos + 4 + size]
            pos += 4 + size
            program, drum = data[pos], data[pos + 1]
            count = _COUNT.unpack_from(data, pos + 2)[0]
            notes = np.frombuffer(data, "<i4", 3 * count, pos + 6).reshape(count, 3)
            pos += 6 + NOTE.itemsize * count
            for _ in range(3):  # controls, pitch bends, pedals
                pos += 4 + _EIGHT * _COUNT.unpack_from(data, pos)[0]
            _, pos = _texts(data, pos)  # lyrics
            tracks.append((name, program, bool(drum), notes))
        count = _COUNT.unpack_from(data, pos)[0]
        signatures = (np.frombuffer(data, _SIGNATURE, count, pos + 4)[
            ["time", "numerator", "denominator"]].tolist() if count else [])
        pos += 4 + _SIGNATURE.itemsize * count
        pos += 4 + _EIGHT * _COUNT.unpack_from(data, pos)[0]  # key signatures
        count = _COUNT.unpack_from(data, pos)[0]
        tempos = np.frombuffer(data, _TEMPO, count, pos + 4).tolist() if count else []
        pos += 4 + _TEMPO.itemsize * count
        markers, pos = _texts(data, pos)
    except (struct.error, ValueError, IndexError):
        return None
    return State(tracks, tempos, signatures, markers) if pos == len(data) else None


def _texts(data: bytes, pos: int) -> tuple[list[tuple[int, bytes]], int]:
    """The (time, text) list at ``pos`` and the offset past it."""
    texts = []
    count = _COUNT.unpack_from(data, pos)[0]
    pos += 4
    for _ in range(count):
        time, size = struct.unpack_from("<iI", data, pos)
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
    expected = [(t.name.encode(), int(t.program), bool(t.is_drum),
                 [(n.time, n.duration, n.pitch, n.velocity) for n in t.notes])
                for t in score.tracks]
    got = [(a, p, d, n.view(NOTE)[:, 0][["time", "duration", "pitch", "velocity"]].tolist())
           for a, p, d, n in state.tracks]
    return (got == expected
            and state.tempos == [(t.time, t.mspq) for t in score.tempos]
            and state.signatures == [(t.time, t.numerator, t.denominator)
                                     for t in score.time_signatures]
            and state.markers == [(m.time, m.text.encode()) for m in score.markers])


try:
    READABLE = _readable()
except Exception:  # noqa: BLE001 (any failure: the reader asks symusic's API instead)
    READABLE = False
