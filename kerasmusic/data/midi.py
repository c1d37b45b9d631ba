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

Each track chunk is parsed on its own (closed so that a note left sounding shows); a
chunk that starts no note (a tempo map, names, lyrics) is walked in Python instead, as
mido reads it. What symusic read is taken from its score's pickled state
(:mod:`kerasmusic.data.symusic_state`, much cheaper than its Python API) where that
state reads as expected. The tracks it reads hold their notes as
:class:`~kerasmusic.data.notes.NoteArrays` (integer ticks): no
:class:`~kerasmusic.data.notes.Note` object is made until a track's ``notes`` is read
(the encoders and the parse cache work on the arrays).

music21's MIDI converter is avoided on purpose: it is ~40x slower than miditoolkit
and can hang on corrupt files.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import os
import stat
from fractions import Fraction

import miditoolkit
import numpy as np
from miditoolkit.midi.containers import Instrument, TempoChange, TimeSignature
from miditoolkit.midi.containers import Note as MidiNote
from symusic.core import ScoreTick

from kerasmusic.data import midi_layout, symusic_state
from kerasmusic.data.limits import MAX_NOTES, MAX_QUARTERS
from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit
from kerasmusic.data.notes import NoteArrays, Piece, Track
from kerasmusic.errors import EmptyMidiError, KerasMusicError, NoPitchedNotesError

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
    data = _file_bytes(path)
    parts = None if data is None else _read_parts(data)
    if parts is None:
        return read_midi_miditoolkit(path, require_pitched=require_pitched)
    tracks, tempo, changes, time_signature, dropped = parts
    if not any(map(_has_notes, tracks)):
        raise EmptyMidiError(path, "the MIDI file contains no notes")
    if require_pitched and not any(_has_notes(t) for t in tracks if not t.is_drum):
        raise NoPitchedNotesError(path, "the MIDI file contains only drum notes; pitched notes "
                                        "are needed (pass require_pitched=False to read drums)")
    repairs = ([f"{dropped} note{'s' * (dropped != 1)} of zero length dropped"]
               if dropped else [])
    return Piece(tracks, tempo=tempo, time_signature=time_signature, name=path,
                 tempo_changes=changes, repairs=repairs)


def _file_bytes(path: str) -> bytes | None:
    """The bytes of the regular file ``path``; None for anything else (missing, a
    folder, a pipe, unreadable: the miditoolkit reader says what)."""
    try:
        # (no stat of the path, no file object: a MIDI file is read in microseconds;
        # O_NONBLOCK: opening a pipe does not wait for a writer)
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        data = os.read(fd, info.st_size + 1)
        # (a file that grew while read: read the rest)
        return data if len(data) <= info.st_size else data + _rest(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _rest(fd: int) -> bytes:
    """What is left to read of the open file ``fd``."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _read_parts(data: bytes) -> tuple | None:
    """(tracks, tempo, tempo changes, time signature, notes of zero length dropped) of
    the MIDI file ``data`` as miditoolkit would read it, or None when only miditoolkit
    can say (see the module's docstring)."""
    layout = midi_layout.split_chunks(data)
    if layout is None or layout.smf_format not in (0, 1, 2) or layout.division <= 0:
        return None
    tpq = layout.division
    if not midi_layout.metas_decode(data):  # (all chunks at once: fewer calls)
        return None
    contents = _chunk_by_chunk(layout)
    if contents is None:
        return None
    parts, tempos, signatures = contents
    tempo_changes = _tempo_changes(tempos)
    if tempo_changes is None:
        return None
    time_signature = min(signatures, key=_TIME) if signatures else None
    last = max(tempo_changes[-1][0], max(signatures, key=_TIME)[0] if signatures else 0)
    made = _tracks(parts, tpq, last)
    if made is None:
        return None
    tracks, dropped = made
    tempo = tempo_changes[0][1]
    changes = [(Fraction(t, tpq), q) for t, q in tempo_changes[1:]]
    signature = (int(time_signature[1]), int(time_signature[2])) if time_signature else (4, 4)
    return tracks, tempo, changes, signature, dropped


def _chunk_by_chunk(layout: midi_layout.Layout
                    ) -> tuple[list[_Instrument | Track], list, list] | None:
    """The parts of the file's chunks in turn (each chunk's instruments, in symusic's
    order: :func:`_tracks` puts them in miditoolkit's, or its silent :class:`Track`),
    its tempos and its time signatures in chunk order; None when miditoolkit must decide
    (symusic refuses a chunk, a chunk's end marker is missing, its tempos or time
    signatures cannot be ordered, a program change or name follows a note...).

    Each chunk that starts notes is parsed on its own
    (:func:`~kerasmusic.data.midi_layout.closed_chunk`: a whole file parsed at once is no
    faster, for the note-offs that close every chunk); one that starts none (a tempo
    map, names, lyrics) is walked in Python, as mido reads it: faster than a parse.
    """
    parts: list[_Instrument | Track] = []
    tempos, signatures = [], []
    for index, chunk in enumerate(layout.chunks):
        found = midi_layout.statuses(chunk)
        if midi_layout.starts_no_note(found):
            walk = midi_layout.read_prelude(chunk, to_end=True)
            if walk is not None:
                tempos.extend(walk.tempos)
                signatures.extend(walk.signatures)
                parts.extend(_silent_part(walk))
                continue
        try:
            score = ScoreTick.from_midi(midi_layout.closed_chunk(chunk, layout.division, found))
        except Exception:  # symusic refuses what mido may read: miditoolkit decides
            return None
        state = (symusic_state.read_state(score) if symusic_state.READABLE else None
                 ) or _state_from_api(score)
        # The end marker is a chunk's last event: it comes last unless another marker
        # shares its time (symusic's sort is not stable); then look at them all.
        markers = state.markers
        if markers and markers[-1][1] == _END_MARKER:
            end = markers[-1][0]
        else:
            chunk_ends = [time for time, text in markers if text == _END_MARKER]
            if not chunk_ends:
                return None
            end = max(chunk_ends)
        if (state.tempos or state.signatures) and not (
                _agree(state.tempos) and _agree(state.signatures)):
            return None
        tempos.extend(state.tempos)
        signatures.extend(state.signatures)
        tracks = [track for track in state.tracks if len(track[2])]  # none: a lyric's track
        if not tracks:
            if midi_layout.may_change_program(chunk, found):
                walk = midi_layout.read_prelude(chunk, to_end=True)
                if walk is None or walk.sounding:
                    return None
                parts.extend(_silent_part(walk))
            continue
        prelude = midi_layout.read_prelude(chunk)
        if prelude is None or not prelude.sounding or not prelude.settles(chunk, found):
            return None
        name = prelude.names[-1] if prelude.names else ""
        parts += [_Instrument(program, is_drum, notes, index, end, name)
                  for program, is_drum, notes in tracks]
    return parts, tempos, signatures


def _silent_part(walk: midi_layout.Prelude) -> list[Track]:
    """The silent :class:`Track` of a chunk without notes whose events are ``walk``, as
    miditoolkit's reader keeps it: one where the chunk changes a program, else none."""
    if walk.first_program is None:
        return []
    channel, program = walk.first_program
    return [Track([], name=walk.names[-1] if walk.names else "", program=program,
                  is_drum=channel == 9)]


def _agree(events: list[tuple]) -> bool:
    """Whether events at one time are equal (symusic sorts a chunk's events by time, not
    stably: their order is then not known, nor needed)."""
    return not events or len({e[0] for e in events}) == len(set(events))


_END_MARKER = midi_layout.END_MARKER.encode()


def _state_from_api(score: ScoreTick) -> symusic_state.State:
    """The tracks, tempos, time signatures and markers of ``score`` through symusic's
    API, where its state does not read as expected (reading that is much faster)."""
    tracks = []
    for track in score.tracks:
        notes = np.zeros(len(track.notes), symusic_state.NOTE)
        for field, values in track.notes.numpy().items():
            notes[field] = values
        tracks.append((int(track.program), bool(track.is_drum), notes.tobytes()))
    return symusic_state.State(
        tracks, [(t.time, t.mspq) for t in score.tempos],
        [(t.time, t.numerator, t.denominator) for t in score.time_signatures],
        [(m.time, m.text.encode()) for m in score.markers])


@dataclasses.dataclass(slots=True)
class _Instrument:
    """An instrument of a track chunk: its notes as symusic gives them (sorted by time
    only; see :class:`~kerasmusic.data.symusic_state.State`), its chunk's index and the
    tick that chunk ends at."""

    program: int
    is_drum: bool
    notes: bytes | memoryview
    chunk: int
    chunk_end: int
    name: str


def _tracks(parts: list[_Instrument | Track], tpq: int, last: int
            ) -> tuple[list[Track], int] | None:
    """The tracks of a file's ``parts`` (the instruments made from arrays: no Note object
    is made) and the number of notes of zero length dropped; None when miditoolkit must
    decide (a note left sounding, instruments whose order cannot be told, more than the
    limits allow: the latest tempo or time signature change is at tick ``last``).

    All instruments' notes are handled at once (a numpy call costs microseconds, and a
    file may have hundreds of tracks of a few notes): checked, put in Note's order per
    track, and each track's times put on the coarsest ticks that keep them exact, as
    :meth:`NoteArrays.from_notes` gives them.
    """
    instruments = [p for p in parts if isinstance(p, _Instrument)]
    if not instruments:
        return (parts, 0) if last <= MAX_QUARTERS * tpq else None
    size = symusic_state.NOTE.itemsize
    counts = [len(i.notes) // size for i in instruments]
    firsts = list(itertools.accumulate(counts[:-1], initial=0))
    notes = symusic_state.notes_array(b"".join([i.notes for i in instruments]))
    for instrument in instruments:  # (symusic's states freed: a big file's are many pages)
        instrument.notes = b""
    start = notes[:, 0].astype(np.int64)
    duration = notes[:, 1].astype(np.int64)
    # A negative time overflowed (symusic's are 32-bit); a note left sounding closes
    # after its chunk's end marker.
    if min(start.min(), duration.min()) < 0:
        return None
    ends = start + duration
    last_ends = np.maximum.reduceat(ends, firsts).tolist()
    if any(e > i.chunk_end for e, i in zip(last_ends, instruments)):
        return None
    latest = max(max(last_ends), last)
    if len(start) > MAX_NOTES or latest > MAX_QUARTERS * tpq:
        return None  # miditoolkit's reader says what and how far
    # miditoolkit makes an instrument at the event ending its first note: in a chunk, each
    # instrument's first note must end at its own time, and that time orders them.
    keys = list(zip([i.chunk for i in instruments], np.minimum.reduceat(ends, firsts).tolist()))
    del ends  # (a big file's arrays are many pages: fewer at once, fewer page faults)
    if len(set(keys)) != len(keys):
        return None
    ordered = sorted(range(len(keys)), key=keys.__getitem__)  # miditoolkit's order
    # (pitch and velocity as one big-endian word: its order is theirs; symusic refuses
    # a file with a data byte over 127, so both are 0..127 and velocities 1..127)
    word = notes.view(">u2")[:, 4].astype(np.int64)
    del notes
    sizes, dropped = counts, 0
    sounding = int(np.count_nonzero(duration))
    if sounding < len(duration):
        keep = duration > 0
        dropped = len(duration) - sounding
        start, duration, word = start[keep], duration[keep], word[keep]
        sizes = np.add.reduceat(keep, firsts, dtype=np.int64).tolist()
    start, duration, pitch, velocity = _in_note_order(start, duration, word, sizes, latest)
    # Each instrument's times on the coarsest ticks that keep them exact (a step of tpq,
    # one tick a quarter, where no note is left, as from_notes gives).
    bounds = list(itertools.accumulate(sizes, initial=0))
    steps = [tpq] * len(sizes)
    filled = [k for k, size in enumerate(sizes) if size]
    if filled:
        at = [bounds[k] for k in filled]
        gcds = np.gcd(np.gcd(np.gcd.reduceat(start, at), np.gcd.reduceat(duration, at)),
                      tpq).tolist()
        for k, step in zip(filled, gcds):
            steps[k] = step
        if len(set(gcds)) == 1:  # (one step: dividing by a number is faster)
            if gcds[0] > 1:
                start //= gcds[0]
                duration //= gcds[0]
        else:
            per_note = np.array(steps).repeat(sizes)
            start //= per_note
            duration //= per_note
    fractions: dict = {}
    made = []
    for k in ordered:
        a, b = bounds[k], bounds[k + 1]
        instrument = instruments[k]
        arrays = NoteArrays(start[a:b], duration[a:b], pitch[a:b], velocity[a:b],
                            tpq // steps[k])
        made.append(Track.from_arrays(arrays, instrument.name, instrument.program,
                                      instrument.is_drum, fractions))
    tracks, chunk_tracks = [], iter(made)
    for part in parts:  # instruments in their new order, silent parts in their place
        tracks.append(part if isinstance(part, Track) else next(chunk_tracks))
    return tracks, dropped


def _in_note_order(start: np.ndarray, duration: np.ndarray, word: np.ndarray,
                   sizes: list[int], latest: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start, duration, pitch and velocity of the notes of each instrument (``sizes[k]``
    of instrument k in turn; ``word``: pitch * 256 + velocity, both 0..127) put in
    :class:`Note`'s order (start, duration, pitch, velocity), the instruments staying
    in turn. Times are 0..``latest``. The three arrays given are overwritten."""
    bits = latest.bit_length()
    owner_bits = (len(sizes) - 1).bit_length()
    if owner_bits + 2 * bits + 16 > 63:  # too wide for one key: sort the columns
        owner = np.arange(len(sizes)).repeat(sizes)
        order = np.lexsort((word, duration, start, owner))
        start, duration, word = start[order], duration[order], word[order]
        return start, duration, word >> 8, word & 0xFF
    # One int64 key holding the whole note, sorted (equal keys are equal notes, so the
    # sort need not be stable; timsort is fast on the runs symusic already sorted) and
    # read back: no gather. In place where it can be (the arrays are the caller's): a
    # big file's arrays are many pages each.
    key = start
    key <<= bits + 16
    duration <<= 16
    key |= duration
    key |= word
    if len(sizes) <= 8:  # each instrument's notes sorted where they are
        bounds = list(itertools.accumulate(sizes, initial=0))
        for a, b in zip(bounds, bounds[1:]):
            key[a:b].sort(kind="stable")
    else:  # (many: one sort, the instrument's index above the note)
        key |= np.arange(len(sizes)).repeat(sizes) << (2 * bits + 16)
        key.sort(kind="stable")
    mask = (1 << bits) - 1
    start = np.right_shift(key, bits + 16, out=word)
    start &= mask
    duration = np.right_shift(key, 16, out=duration)
    duration &= mask
    pitch = key >> 8
    pitch &= 0xFF
    key &= 0xFF
    return start, duration, pitch, key


def _has_notes(track: Track) -> bool:
    """Whether ``track`` has a note (read from its arrays: no Note object is made)."""
    arrays = track.arrays()
    return bool(len(arrays) if arrays is not None else track.notes)


def _tempo_changes(tempos: list[tuple[int, int]]) -> list[tuple[int, float]] | None:
    """(tick, quarter notes a minute) of the tempo changes as miditoolkit keeps them:
    120 until a first change; a change at tick 0 replaces all before it; a later one
    counts when it differs from the last kept; sorted by time (stably). None at a tempo
    of 0 microseconds a quarter (miditoolkit's reader says what is wrong)."""
    changes = [(0, 120.0)]
    for tick, mspq in tempos:
        if mspq == 0:
            return None
        qpm = 60_000_000 / mspq  # (mido.tempo2bpm's float, bit for bit)
        if tick == 0:
            changes = [(0, qpm)]
        elif qpm != changes[-1][1]:
            changes.append((tick, qpm))
    return sorted(changes, key=_TIME)


_TIME = operator.itemgetter(0)


def write_midi(piece: Piece, path: str | os.PathLike, *, ticks_per_beat: int = 480) -> None:
    """Write ``piece`` as a MIDI file: one instrument per track, its tempo and time signature.

    Times are rounded to the nearest tick; notes are at least one tick long.

    Raises:
        KerasMusicError: ``path`` is a folder, or its folder does not exist.
    """
    if os.path.isdir(path):
        raise KerasMusicError(f"{os.fspath(path)} is a folder: give the MIDI file's name "
                              "(e.g. out.mid)")
    folder = os.path.dirname(os.fspath(path))
    if folder and not os.path.isdir(folder):
        raise KerasMusicError(f"cannot write {os.fspath(path)}: the folder {folder} does not "
                              "exist")
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
