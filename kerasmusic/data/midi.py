"""Reading MIDI files with symusic, writing them with miditoolkit.

:func:`read_midi` parses a file with symusic (C++, a few hundred times faster than
miditoolkit's pure Python) and gives exactly the pieces miditoolkit's reading gave
(:func:`~kerasmusic.data.midi_miditoolkit.read_midi_miditoolkit`, reader version 6):
the same instruments in the same order, names, programs, notes, tempo, time signature
and repairs, and the same errors. A file whose reading symusic's result cannot settle
alone (see :mod:`kerasmusic.data.midi_layout`: a program change or track name after
the first note, two instruments of one track whose first notes end together, notes
left sounding, a damaged or unusual layout, a claim beyond the limits) is read with
miditoolkit instead. :func:`write_midi` writes with miditoolkit (through mido).

music21's MIDI converter is avoided on purpose: it is ~40x slower than miditoolkit
and can hang on corrupt files.
"""

from __future__ import annotations

import dataclasses
import os
from fractions import Fraction

import miditoolkit
import mido
import numpy as np
from miditoolkit.midi.containers import Instrument, TempoChange, TimeSignature
from miditoolkit.midi.containers import Note as MidiNote
from symusic.core import ScoreTick

from kerasmusic.data import midi_layout
from kerasmusic.data.limits import MAX_NOTES, MAX_QUARTERS
from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit
from kerasmusic.data.notes import Note, Piece, Track
from kerasmusic.errors import EmptyMidiError, NoPitchedNotesError

MIDI_SUFFIXES = (".mid", ".midi")

def read_midi(path: str | os.PathLike, *, require_pitched: bool = True) -> Piece:
    """Read a MIDI file into a :class:`Piece`.

    Every instrument becomes a track (drums flagged; a silent part keeps its place);
    tick times become exact quarter lengths; the first tempo, every tempo change and
    the first time signature are kept.

    Args:
        path: the MIDI file.
        require_pitched: raise :class:`NoPitchedNotesError` if the file has only
            drum notes.

    Raises:
        MidiReadError: the file is missing, not MIDI, truncated or corrupt, or claims more
            than a piece may (:mod:`kerasmusic.data.limits`: a note ending beyond
            100,000 quarter notes, over 2 million notes, an SMF format other than 0-2).
        EmptyMidiError: the file holds no notes.
        NoPitchedNotesError: only drums, and ``require_pitched``.
    """
    path = os.fspath(path)
    parts = None
    if os.path.isfile(path):
        try:
            with open(path, "rb") as f:
                parts = _read_parts(f.read())
        except OSError:
            parts = None
    if parts is None:
        return read_midi_miditoolkit(path, require_pitched=require_pitched)
    tracks, tempo, changes, time_signature, dropped = parts
    if not any(t.notes for t in tracks):
        raise EmptyMidiError(path, "the MIDI file contains no notes")
    if require_pitched and not any(t.notes for t in tracks if not t.is_drum):
        raise NoPitchedNotesError(path, "the MIDI file contains only drum notes; pitched notes "
                                        "are needed (pass require_pitched=False to read drums)")
    repairs = ([f"{dropped} note{'s' * (dropped != 1)} of zero length dropped"]
               if dropped else [])
    return Piece(tracks, tempo=tempo, time_signature=time_signature, name=path,
                 tempo_changes=changes, repairs=repairs)


def _read_parts(data: bytes) -> tuple | None:
    """(tracks, tempo, tempo changes, time signature, notes of zero length dropped) of
    the MIDI file ``data`` as miditoolkit would read it, or None when only miditoolkit
    can say (see the module's docstring)."""
    layout = midi_layout.split_chunks(data)
    if layout is None or layout.smf_format not in (0, 1, 2) or layout.division <= 0:
        return None
    tpq = layout.division
    parts, tempos, signatures = [], [], []
    for chunk in layout.chunks:
        if not midi_layout.metas_decode(chunk):
            return None
        try:
            score = ScoreTick.from_midi(midi_layout.closed_chunk(chunk, tpq))
        except Exception:  # symusic refuses what mido may read: miditoolkit decides
            return None
        part = _chunk_part(chunk, score)
        if part is None:
            return None
        parts.extend(part)
        chunk_tempos = [(t.time, t.mspq) for t in score.tempos]
        chunk_signatures = [(t.time, t.numerator, t.denominator) for t in score.time_signatures]
        # symusic sorts a chunk's events by time, not stably: events at one time must agree.
        for events in (chunk_tempos, chunk_signatures):
            if len({e[0] for e in events}) != len(set(events)):
                return None
        tempos.extend(chunk_tempos)
        signatures.extend(chunk_signatures)
    if any(mspq == 0 for _, mspq in tempos):
        return None
    tempo_changes = _tempo_changes(tempos)
    time_signature = min(signatures, key=lambda s: s[0]) if signatures else None
    instruments = [p for p in parts if isinstance(p, _Instrument)]
    last = max([int(i.ends.max()) for i in instruments if len(i.ends)]
               + [t for t, _ in tempo_changes] + [s[0] for s in signatures])
    if sum(len(i.ends) for i in instruments) > MAX_NOTES or last > MAX_QUARTERS * tpq:
        return None  # miditoolkit's reader says what and how far
    tracks, dropped, fractions = [], 0, _Fractions(instruments, tpq)
    for part in parts:
        if isinstance(part, Track):
            tracks.append(part)
            continue
        sounding = part.columns[part.columns[:, 1] > 0]
        dropped += len(part.columns) - len(sounding)
        tracks.append(_track(sounding, fractions, part))
    tempo = tempo_changes[0][1]
    changes = [(Fraction(t, tpq), q) for t, q in tempo_changes[1:]]
    signature = (int(time_signature[1]), int(time_signature[2])) if time_signature else (4, 4)
    return tracks, tempo, changes, signature, dropped


@dataclasses.dataclass
class _Instrument:
    """An instrument of a track chunk: its notes as an (n, 4) array of start, duration,
    pitch and velocity in ticks, and the tick each ends at."""

    program: int
    is_drum: bool
    columns: np.ndarray
    ends: np.ndarray
    name: str = ""


def _chunk_part(chunk: bytes, score: ScoreTick) -> list[_Instrument | Track] | None:
    """The instruments of one track chunk in miditoolkit's order, or its silent
    :class:`Track`; None when miditoolkit must decide."""
    ends = [m.time for m in score.markers if m.text == midi_layout.END_MARKER]
    if not ends:
        return None
    end = max(ends)
    instruments = []
    for track in score.tracks:
        if not len(track.notes):
            continue  # a lyric's track: no instrument for miditoolkit
        arrays = track.notes.numpy()
        columns = np.stack([arrays["time"], arrays["duration"], arrays["pitch"],
                            arrays["velocity"]], axis=1).astype(np.int64)
        if (columns[:, :2] < 0).any() or (columns[:, 0] + columns[:, 1] > end).any():
            return None  # a note left sounding (closed after the marker), or an overflow
        instruments.append(_Instrument(int(track.program), bool(track.is_drum), columns,
                                       columns[:, 0] + columns[:, 1]))
    if not instruments:
        if not midi_layout.may_change_program(chunk):
            return []
        prelude = midi_layout.read_prelude(chunk, to_end=True)
        if prelude is None or prelude.sounding:
            return None
        if prelude.first_program is None:
            return []
        channel, program = prelude.first_program
        return [Track([], name=prelude.names[-1] if prelude.names else "", program=program,
                      is_drum=channel == 9)]
    prelude = midi_layout.read_prelude(chunk)
    if prelude is None or not prelude.sounding or not prelude.settles(chunk):
        return None
    # miditoolkit makes an instrument at the event ending its first note: one time, one order.
    first_ends = [int(i.ends.min()) for i in instruments]
    if len(set(first_ends)) != len(instruments):
        return None
    for instrument in instruments:
        instrument.name = prelude.names[-1] if prelude.names else ""
    return [i for _, i in sorted(zip(first_ends, instruments), key=lambda pair: pair[0])]


def _tempo_changes(tempos: list[tuple[int, int]]) -> list[tuple[int, float]]:
    """(tick, quarter notes a minute) of the tempo changes as miditoolkit keeps them:
    120 until a first change; a change at tick 0 replaces all before it; a later one
    counts when it differs from the last kept; sorted by time (stably)."""
    changes = [(0, 120.0)]
    for tick, mspq in tempos:
        qpm = mido.tempo2bpm(mspq)
        if tick == 0:
            changes = [(0, qpm)]
        elif qpm != changes[-1][1]:
            changes.append((tick, qpm))
    return sorted(changes, key=lambda c: c[0])


class _Fractions:
    """Fraction(ticks, tpq) of every start and duration of a piece, each distinct one made
    once (a piece's times repeat, and a Fraction costs a microsecond or more to make)."""

    def __init__(self, instruments: list[_Instrument], tpq: int):
        times = [i.columns[:, :2].ravel() for i in instruments]
        self.ticks = np.unique(np.concatenate(times)) if times else np.zeros(0, np.int64)
        self.fractions = [Fraction(t, tpq) for t in self.ticks.tolist()]

    def of(self, ticks: np.ndarray) -> list[Fraction]:
        """The Fractions of ``ticks`` (each among the piece's)."""
        return list(map(self.fractions.__getitem__,
                        np.searchsorted(self.ticks, ticks).tolist()))


def _track(columns: np.ndarray, fractions: _Fractions, instrument: _Instrument) -> Track:
    """A Track of ``instrument`` with the notes of the (n, 4) tick array ``columns``."""
    columns = columns[np.lexsort(columns.T[::-1])]  # the order of Note's fields
    notes = list(map(Note, fractions.of(columns[:, 0]), fractions.of(columns[:, 1]),
                     columns[:, 2].tolist(), np.clip(columns[:, 3], 1, 127).tolist()))
    return Track.from_sorted(notes, name=instrument.name, program=instrument.program,
                             is_drum=instrument.is_drum)


def write_midi(piece: Piece, path: str | os.PathLike, *, ticks_per_beat: int = 480) -> None:
    """Write ``piece`` as a MIDI file: one instrument per track, its tempo and time signature.

    Times are rounded to the nearest tick; notes are at least one tick long.
    """
    midi = miditoolkit.MidiFile(ticks_per_beat=ticks_per_beat)
    midi.tempo_changes = [TempoChange(float(piece.tempo), 0)] + [
        TempoChange(float(qpm), round(time * ticks_per_beat)) for time, qpm in piece.tempo_changes]
    num, den = piece.time_signature
    midi.time_signature_changes = [TimeSignature(int(num), int(den), 0)]
    for track in piece.tracks:
        inst = Instrument(program=int(track.program), is_drum=bool(track.is_drum),
                          name=track.name or "")
        for n in track.notes:
            start = round(n.start * ticks_per_beat)
            end = max(start + 1, round(n.end * ticks_per_beat))
            inst.notes.append(MidiNote(int(n.velocity), int(n.pitch), int(start), int(end)))
        midi.instruments.append(inst)
    midi.dump(os.fspath(path))
