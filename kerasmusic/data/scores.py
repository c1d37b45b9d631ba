"""Reading scores (MusicXML, Humdrum kern, ABC, ...) and writing MusicXML with music21."""

from __future__ import annotations

import os
from fractions import Fraction

import music21

from kerasmusic.data.notes import Note, Piece, Track
from kerasmusic.errors import ScoreReadError

SCORE_SUFFIXES = (".xml", ".mxl", ".musicxml", ".krn", ".abc")


def _fraction(value) -> Fraction:
    return Fraction(music21.common.opFrac(value))


def piece_from_stream(stream: music21.stream.Stream, name: str = "") -> Piece:
    """Convert a parsed music21 score or stream into a :class:`Piece`.

    One track per part (the whole stream if it has no parts); ties are merged,
    chords become several notes, grace notes (no duration) are dropped.
    """
    if isinstance(stream, music21.stream.Opus):
        stream = stream.scores[0]
    stream = stream.stripTies()
    parts = list(stream.parts) or [stream]
    tracks = []
    for part in parts:
        flat = part.flatten()
        notes = []
        for element in flat.notes:
            duration = _fraction(element.quarterLength)
            if duration <= 0:
                continue
            start = _fraction(flat.elementOffset(element))
            velocity = element.volume.velocity if element.volume.velocity else 80
            for pitch in element.pitches:
                notes.append(Note(start, duration, int(pitch.midi), int(velocity)))
        instrument = part.getInstrument(returnDefault=False)
        program = instrument.midiProgram if instrument and instrument.midiProgram else 0
        tracks.append(Track(notes, name=part.partName or "", program=int(program)))
    tempo_marks = stream.flatten().getElementsByClass(music21.tempo.MetronomeMark)
    tempo = float(tempo_marks[0].getQuarterBPM()) if tempo_marks else 120.0
    signatures = stream.flatten().getElementsByClass(music21.meter.TimeSignature)
    ts = (signatures[0].numerator, signatures[0].denominator) if signatures else (4, 4)
    return Piece([t for t in tracks if t.notes], tempo=tempo, time_signature=ts, name=name)


def read_score(source: str | os.PathLike | music21.stream.Stream) -> Piece:
    """Read a score file (or a parsed music21 stream) into a :class:`Piece`.

    A file holding several pieces (an ABC tune book) gives its first piece; use
    :func:`read_scores` for all of them.

    Raises:
        ScoreReadError: the file is missing or music21 cannot parse it.
    """
    if isinstance(source, music21.stream.Stream):
        return piece_from_stream(source, name=str(source.metadata.title if source.metadata
                                                  else ""))
    return read_scores(source)[0]


def read_scores(path: str | os.PathLike) -> list[Piece]:
    """Read every piece of a score file (several for an ABC tune book)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ScoreReadError(path, "no such file")
    try:
        parsed = music21.converter.parse(path)
        scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
        pieces = [piece_from_stream(s, name=path if len(scores) == 1 else f"{path}#{i}")
                  for i, s in enumerate(scores)]
    except Exception as exc:  # music21 raises many unrelated exception types
        raise ScoreReadError(path, f"music21 cannot parse it ({type(exc).__name__}: {exc})") \
            from exc
    pieces = [p for p in pieces if p.notes]
    if not pieces:
        raise ScoreReadError(path, "the score contains no notes")
    return pieces


def write_musicxml(piece: Piece, path: str | os.PathLike) -> None:
    """Write ``piece`` as MusicXML, one part per track (music21 does the notation)."""
    score = music21.stream.Score()
    score.insert(0, music21.metadata.Metadata(title=os.path.basename(piece.name or "kerasmusic")))
    for i, track in enumerate(piece.tracks):
        part = music21.stream.Part()
        part.partName = track.name or f"track {i}"
        part.insert(0, music21.tempo.MetronomeMark(number=piece.tempo))
        part.insert(0, music21.meter.TimeSignature(f"{piece.time_signature[0]}/"
                                                   f"{piece.time_signature[1]}"))
        by_onset: dict[tuple[Fraction, Fraction], list[int]] = {}
        for n in track.notes:
            by_onset.setdefault((n.start, n.duration), []).append(n.pitch)
        for (start, duration), pitches in sorted(by_onset.items()):
            element = (music21.note.Note(pitches[0]) if len(pitches) == 1
                       else music21.chord.Chord(sorted(pitches)))
            element.quarterLength = duration
            part.insert(start, element)
        score.insert(0, part)
    score.write("musicxml", fp=os.fspath(path))
