"""Tiny builders for test data (in the spirit of note-seq's testing_lib)."""

from __future__ import annotations

from fractions import Fraction

from kerasmusic.data.notes import Note, Piece, Track


def make_track(notes, name="", program=0, is_drum=False) -> Track:
    """``notes``: iterable of (pitch, start, duration[, velocity]); times in quarters."""
    out = []
    for n in notes:
        pitch, start, duration, *rest = n
        velocity = rest[0] if rest else 80
        out.append(Note(Fraction(start), Fraction(duration), int(pitch), int(velocity)))
    return Track(out, name=name, program=program, is_drum=is_drum)


def make_piece(*tracks, tempo=120.0, time_signature=(4, 4), name="test") -> Piece:
    """Each positional argument is a list of (pitch, start, duration[, velocity])."""
    return Piece(
        [t if isinstance(t, Track) else make_track(t) for t in tracks],
        tempo=tempo,
        time_signature=time_signature,
        name=name,
    )
