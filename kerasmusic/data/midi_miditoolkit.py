"""The MIDI reader of kerasmusic 0.x up to reader version 6: miditoolkit on top of mido.

:func:`kerasmusic.data.midi.read_midi` reads through symusic and gives the same pieces;
it comes back here for the files whose reading symusic's result alone cannot settle
(:mod:`kerasmusic.data.midi_layout`), and the tests compare the two readers. It is
pure Python, mido's parsing included (``benchmarks/midi_read.py`` measures both).
"""

from __future__ import annotations

import os
import struct
from fractions import Fraction

import miditoolkit
import mido

from kerasmusic.data.limits import piece_problem
from kerasmusic.data.notes import Note, Piece, Track
from kerasmusic.errors import EmptyMidiError, MidiReadError, NoPitchedNotesError, describe


def read_midi_miditoolkit(path: str | os.PathLike, *, require_pitched: bool = True) -> Piece:
    """Read a MIDI file into a :class:`Piece` with miditoolkit: the arguments, result
    and errors of :func:`kerasmusic.data.midi.read_midi`, several times slower."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MidiReadError(path, "no such file")
    try:
        midi = miditoolkit.MidiFile(path)
    except Exception as exc:
        # mido / miditoolkit raise builtin OSError, EOFError, ValueError, KeyError,
        # IndexError, struct.error... on damaged files, and mido's own
        # KeySignatureError (a bare Exception) on a bad key signature: wrap them all.
        raise MidiReadError(path, f"not a readable MIDI file ({describe(exc)})") from exc
    empty_tracks, note_ons = _scan_tracks(path)
    tpq = midi.ticks_per_beat
    if not tpq or tpq <= 0:
        raise MidiReadError(path, f"invalid ticks per beat {tpq!r} (SMPTE timing is not supported)")
    _check_claims(path, midi, tpq)
    tracks, dropped = [], 0
    unended = note_ons - sum(len(inst.notes) for inst in midi.instruments)
    for inst in midi.instruments:
        notes = [
            Note(Fraction(n.start, tpq), Fraction(n.end - n.start, tpq), int(n.pitch),
                 max(1, min(127, int(n.velocity))))
            for n in inst.notes
            if n.end > n.start
        ]
        dropped += len(inst.notes) - len(notes)
        tracks.append(Track(notes, name=inst.name or "", program=int(inst.program),
                            is_drum=bool(inst.is_drum)))
    for position, track in empty_tracks:
        tracks.insert(min(position, len(tracks)), track)
    if not any(t.notes for t in tracks):
        raise EmptyMidiError(path, "the MIDI file contains no notes")
    if require_pitched and not any(t.notes for t in tracks if not t.is_drum):
        raise NoPitchedNotesError(path, "the MIDI file contains only drum notes; pitched notes "
                                        "are needed (pass require_pitched=False to read drums)")
    tempos = sorted(midi.tempo_changes, key=lambda t: t.time)
    tempo = float(tempos[0].tempo) if tempos else 120.0
    changes = [(Fraction(t.time, tpq), float(t.tempo)) for t in tempos[1:]]
    ts = midi.time_signature_changes[0] if midi.time_signature_changes else None
    time_signature = (int(ts.numerator), int(ts.denominator)) if ts else (4, 4)
    # Silent instrument tracks stay (see _scan_tracks): track numbers are stable.
    repairs = [f"{count} note{'s' * (count != 1)} {what} dropped" for count, what in (
        (dropped, "of zero length"), (unended, "with no note-off")) if count > 0]
    return Piece(tracks, tempo=tempo, time_signature=time_signature, name=path,
                 tempo_changes=changes, repairs=repairs)


def _check_claims(path: str, midi: miditoolkit.MidiFile, tpq: int) -> None:
    """Refuse a file whose header or times a damaged file would have (see
    :mod:`kerasmusic.data.limits`) before anything is built from them."""
    smf_format = _smf_format(path)
    if smf_format not in (0, 1, 2):
        raise MidiReadError(path, f"SMF format {smf_format} in the header: only 0, 1 and 2 "
                                  "exist (a damaged file?)")
    notes = [n for inst in midi.instruments for n in inst.notes]
    problem = piece_problem(len(notes), Fraction(max((n.end for n in notes), default=0), tpq))
    changes = [*midi.tempo_changes, *midi.time_signature_changes]
    problem = problem or piece_problem(0, Fraction(max((c.time for c in changes), default=0),
                                                   tpq), "a tempo or time signature change is")
    if problem:
        raise MidiReadError(path, problem)


def _smf_format(path: str) -> int | None:
    """The format field of a standard MIDI file's header (None without an MThd header)."""
    with open(path, "rb") as f:
        head = f.read(14)
    if len(head) < 14 or head[:4] != b"MThd":
        return None
    return struct.unpack(">h", head[8:10])[0]


def _scan_tracks(path: str) -> tuple[list[tuple[int, Track]], int]:
    """Instrument tracks without notes, with the position each takes among the
    instruments; and the number of note-ons (to count the notes miditoolkit drops).

    miditoolkit only makes instruments from notes, so a silent part (a track with a
    program change but no note, as :func:`write_midi` writes a silent track) would
    vanish and shift the numbers of the tracks after it. Instruments come in file
    order, one per (track, channel, program) that plays.
    """
    try:
        tracks = mido.MidiFile(path).tracks
    except Exception:  # miditoolkit read the file; any doubt here only loses empty parts
        return [], 0
    found, position, note_ons = [], 0, 0
    for track in tracks:
        programs = [0] * 16
        playing, name, change = [], "", None
        for msg in track:
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "program_change":
                programs[msg.channel] = msg.program
                change = change or msg
            elif msg.type == "note_on" and msg.velocity > 0:
                note_ons += 1
                key = (programs[msg.channel], msg.channel)
                if key not in playing:
                    playing.append(key)
        if not playing and change is not None:
            found.append((position, Track([], name=name, program=change.program,
                                          is_drum=change.channel == 9)))
            position += 1
        position += len(playing)
    return found, note_ons
