"""The shard workers' reading and encoding before issue 14, for
benchmarks/shard_preprocessing.py: miditoolkit's reader (pure Python, a Note with
Fraction times for every note), and tracks without note arrays, so the piano roll
is built note by note (``MultiTrackPianoRoll``'s reference path). Kept apart from
the benchmark so a worker process imports it without TensorFlow."""

from __future__ import annotations

from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit
from kerasmusic.data.notes import Piece


def read_midi_old(path) -> Piece:
    """``read_midi_miditoolkit(path)``, each track marked as having no arrays."""
    piece = read_midi_miditoolkit(path)
    for track in piece.tracks:
        # Track.arrays() gives what it cached while the notes are these very ones: None
        # sends every encoder down its per-note path.
        track.__dict__["_arrays"] = (list(track.notes), None)
    return piece
