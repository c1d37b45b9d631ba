"""Reading scores (MusicXML, Humdrum kern, ABC, ...) and writing MusicXML with music21."""

from __future__ import annotations

import os
from fractions import Fraction

import music21

from kerasmusic.data.limits import piece_problem
from kerasmusic.data.notes import Note, Piece, Track
from kerasmusic.errors import KerasMusicError, ScoreReadError, describe

SCORE_SUFFIXES = (".xml", ".mxl", ".musicxml", ".krn", ".abc")


def _fraction(value) -> Fraction:
    return Fraction(music21.common.opFrac(value))


def _velocity(element: music21.note.NotRest) -> int:
    if element.hasVolumeInformation() and element.volume.velocity:
        return max(1, min(127, int(element.volume.velocity)))
    return 80


def _tempos(flat: music21.stream.Stream) -> tuple[float, list[tuple[Fraction, float]]]:
    """The first metronome mark's quarter notes per minute (120 if none) and later changes.

    Marks without a number (text only, such as "Lebhaft") are skipped; a mark
    repeated in every part counts once.
    """
    marks: dict[Fraction, float] = {}
    for mark in flat.getElementsByClass(music21.tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm:
            marks.setdefault(_fraction(flat.elementOffset(mark)), float(bpm))
    if not marks:
        return 120.0, []
    (_, tempo), *later = sorted(marks.items())
    changes, current = [], tempo
    for time, bpm in later:
        if bpm != current:
            changes.append((time, bpm))
            current = bpm
    return tempo, changes


def piece_from_stream(stream: music21.stream.Stream, name: str = "", *,
                      in_place: bool = False) -> Piece:
    """Convert a parsed music21 score or stream into a :class:`Piece`.

    One track per part (the whole stream if it has no parts), empty parts kept so
    track numbers are the score's part numbers; ties are merged, chords become
    several notes, grace notes (no duration) are dropped, rests are gaps. An
    :class:`~music21.stream.Opus` gives its first score.

    Args:
        stream: a music21 Score, Part, Opus or any Stream.
        name: the piece's name.
        in_place: merge ties in ``stream`` itself (faster; it is changed) instead
            of in a copy.
    """
    if isinstance(stream, music21.stream.Opus):
        stream = stream.scores[0]
    # stripTies on a copy costs more than the parse itself: skip the copy for our own parses.
    if in_place:
        stream.stripTies(inPlace=True)
    else:
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
            velocity = _velocity(element)
            for pitch in element.pitches:  # none for unpitched percussion
                notes.append(Note(start, duration, int(pitch.midi), velocity))
        instrument = part.getInstrument(returnDefault=False)
        program = instrument.midiProgram if instrument and instrument.midiProgram else 0
        tracks.append(Track(notes, name=part.partName or "", program=int(program)))
    flat = stream.flatten()
    signatures = flat.getElementsByClass(music21.meter.TimeSignature)
    ts = (signatures[0].numerator, signatures[0].denominator) if signatures else (4, 4)
    tempo, changes = _tempos(flat)
    return Piece(tracks, tempo=tempo, time_signature=ts, name=name, tempo_changes=changes)


def read_score(source: str | os.PathLike | music21.stream.Stream) -> Piece:
    """Read a score file (or a parsed music21 stream) into a :class:`Piece`.

    A file holding several pieces (an ABC tune book) gives its first piece; use
    :func:`read_scores` for all of them. A stream passed in is not changed.

    Args:
        source: a file music21 parses (MusicXML .xml/.mxl/.musicxml, Humdrum .krn,
            ABC .abc, ...) or a parsed :class:`music21.stream.Stream`.

    Raises:
        ScoreReadError: the file is missing, music21 cannot parse it, or it has no notes.
    """
    if isinstance(source, music21.stream.Stream):
        title = source.metadata.title if source.metadata is not None else None
        name = str(title or "")
        try:
            return piece_from_stream(source, name=name)
        except Exception as exc:  # music21 raises many unrelated exception types
            raise ScoreReadError(name or "<music21 stream>",
                                 f"cannot convert this stream ({describe(exc)})") from exc
    return read_scores(source)[0]


def read_scores(path: str | os.PathLike) -> list[Piece]:
    """Read every piece of a score file (several for an ABC tune book).

    Raises:
        ScoreReadError: the file is missing, music21 cannot parse it, it has no notes, or
            it claims more than a piece may (:mod:`kerasmusic.data.limits`).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ScoreReadError(path, "no such file")
    try:
        # forceSource: music21 would otherwise read and write pickles of its parses in
        # its scratch folder; kerasmusic keeps its own JSON cache (load_corpus) instead.
        parsed = music21.converter.parse(path, forceSource=True)
        scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
        pieces = [piece_from_stream(s, name=path if len(scores) == 1 else f"{path}#{i}",
                                    in_place=True)
                  for i, s in enumerate(scores)]
    except Exception as exc:  # music21 raises many unrelated exception types
        raise ScoreReadError(path, f"music21 cannot parse it ({describe(exc)})") from exc
    pieces = [p for p in pieces if p.notes]
    if not pieces:
        raise ScoreReadError(path, "the score contains no notes")
    for piece in pieces:
        problem = piece_problem(sum(len(t.notes) for t in piece.tracks), piece.duration)
        if problem:
            raise ScoreReadError(piece.name, problem)
    return pieces


# write_musicxml rounds times to 1/24 quarter: 32nd notes and triplets are exact, and
# music21 can notate every onset and length on that grid (checked up to two quarters).
MUSICXML_GRID = Fraction(1, 24)


def _on_grid(value: Fraction) -> Fraction:
    return round(value / MUSICXML_GRID) * MUSICXML_GRID


def write_musicxml(piece: Piece, path: str | os.PathLike) -> None:
    """Write ``piece`` as MusicXML, one part per track (music21 does the notation).

    Onsets and ends are rounded to :data:`MUSICXML_GRID` (1/24 quarter), since
    MusicXML cannot notate arbitrary lengths such as a MIDI file's 479/480;
    a note is at least one grid step long. Tempo (and tempo changes), time
    signature and track names are kept; MIDI programs and velocities are not.

    Raises:
        KerasMusicError: music21 cannot write the piece.
    """
    score = music21.stream.Score()
    score.insert(0, music21.metadata.Metadata(title=os.path.basename(piece.name or "kerasmusic")))
    for i, track in enumerate(piece.tracks):
        part = music21.stream.Part()
        part.partName = track.name or f"track {i}"
        part.insert(0, music21.tempo.MetronomeMark(number=piece.tempo))
        for time, qpm in piece.tempo_changes:
            part.insert(_on_grid(time), music21.tempo.MetronomeMark(number=qpm))
        part.insert(0, music21.meter.TimeSignature(f"{piece.time_signature[0]}/"
                                                   f"{piece.time_signature[1]}"))
        by_onset: dict[tuple[Fraction, Fraction], set[int]] = {}
        for n in track.notes:
            start = _on_grid(n.start)
            duration = max(MUSICXML_GRID, _on_grid(n.end) - start)
            by_onset.setdefault((start, duration), set()).add(n.pitch)
        for (start, duration), pitches in sorted(by_onset.items()):
            element = (music21.note.Note(min(pitches)) if len(pitches) == 1
                       else music21.chord.Chord(sorted(pitches)))
            element.quarterLength = duration
            part.insert(start, element)
        score.insert(0, part)
    try:
        score.write("musicxml", fp=os.fspath(path))
    except Exception as exc:  # music21 raises its own exception types here
        raise KerasMusicError(f"{os.fspath(path)}: music21 cannot write this piece as MusicXML "
                              f"({type(exc).__name__}: {exc})") from exc
