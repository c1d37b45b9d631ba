"""Transformations of pieces: transposition and key normalisation."""

from __future__ import annotations

import dataclasses

from kerasmusic.data.notes import MAX_PITCH, MIN_PITCH, Piece, Track
from kerasmusic.errors import KerasMusicError

_C_MAJOR = frozenset({0, 2, 4, 5, 7, 9, 11})


def transpose(piece: Piece, semitones: int) -> Piece:
    """A copy of ``piece`` with every pitched note moved by ``semitones`` (drums stay).

    Raises:
        KerasMusicError: a note would leave the MIDI range 0..127.
    """
    tracks = []
    for track in piece.tracks:
        if track.is_drum or semitones == 0:
            tracks.append(track)
            continue
        notes = [dataclasses.replace(n, pitch=n.pitch + semitones) for n in track.notes]
        if notes and not (MIN_PITCH <= min(n.pitch for n in notes)
                          and max(n.pitch for n in notes) <= MAX_PITCH):
            raise KerasMusicError(f"{piece.name or 'piece'}: transposing by {semitones} "
                                  "semitones leaves the MIDI pitch range 0..127")
        tracks.append(Track(notes, name=track.name, program=track.program, is_drum=False))
    return dataclasses.replace(piece, tracks=tracks)


def key_shift(piece: Piece) -> int:
    """Semitones (-5..6) that bring ``piece`` closest to the white keys (C major / A minor).

    The shift maximises the total duration of notes whose pitch class lies in the
    C major scale; ties go to the smaller move. It needs no key signature, so it
    works for MIDI files as well as scores.
    """
    weight = [0.0] * 12
    for note in piece.notes:
        weight[note.pitch % 12] += float(note.duration)

    def score(shift: int) -> tuple[float, int]:
        return (sum(w for pc, w in enumerate(weight) if (pc + shift) % 12 in _C_MAJOR),
                -abs(shift))

    return max(range(-5, 7), key=score)


def normalize_key(piece: Piece) -> Piece:
    """``piece`` transposed by :func:`key_shift`: every piece in C major or A minor.

    Training on key-normalised pieces lets a small model learn melody and harmony
    instead of twelve copies of them.
    """
    return transpose(piece, key_shift(piece))
