"""Continuous tone features: the representation of the C-RNN-GAN paper.

Each tone is four real values, times in ticks at 384 per quarter note:

====  ==========================================================
0     time since the previous tone's onset (0 = part of a chord)
1     length
2     MIDI pitch
3     velocity
====  ==========================================================

With ``tones_per_cell=3`` (C-RNN-GAN-3) tones that start together share one cell:
the cell's 12 values are three (dt, length, pitch, velocity) slots, the first slot
carrying the time since the previous cell, the others dt 0; unused slots are all
zero. A chord of more than three notes fills cells of three, low to high; each further
cell has dt 0.

Features are divided by per-feature scales fitted on the training pieces (the mean
absolute value), so zero stays zero (unused slots, chord onsets) and values are
around 1. Scales are saved as JSON with the model and inverted on output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from kerasmusic.data.config_schema import (
    INT,
    NUMBER,
    TRACKS,
    build_from_config,
    list_of,
    load_config,
    or_none,
)
from kerasmusic.data.notes import Note, Piece, Track, round_div, track_groups
from kerasmusic.errors import KerasMusicError

TICKS_PER_QUARTER = 384
N_FEATURES = 4
FEATURES = ("dt", "length", "pitch", "velocity")


class ToneEncoding:
    """Pieces <-> arrays of (cells, 4 * tones_per_cell) scaled tone features.

    Args:
        tones_per_cell: 1 (C-RNN-GAN) or more (C-RNN-GAN-3 uses 3).
        tracks: track indices to read; None reads every non-drum track.
        scales: per-feature divisors (4 values); set by :meth:`fit`.
    """

    def __init__(self, tones_per_cell: int = 1, tracks: Sequence[int] | None = None,
                 scales: Sequence[float] | None = None):
        if tones_per_cell < 1:
            raise KerasMusicError(f"tones_per_cell must be at least 1, got {tones_per_cell}")
        self.tones_per_cell = int(tones_per_cell)
        self.tracks = None if tracks is None else [int(t) for t in tracks]
        self.scales = None if scales is None else np.asarray(scales, np.float32)

    @property
    def n_features(self) -> int:
        """Values per cell: 4 x tones_per_cell."""
        return N_FEATURES * self.tones_per_cell

    def _notes(self, piece: Piece) -> list[Note]:
        if self.tracks is None:
            return piece.notes
        return sorted(n for i in self.tracks if i < len(piece.tracks)
                      for n in piece.tracks[i].notes)

    def raw_cells(self, piece: Piece) -> np.ndarray:
        """Unscaled features, shape (cells, n_features), ticks at 384 per quarter."""
        if self.tracks is None:
            chosen = [t for t in piece.tracks if not t.is_drum]
        else:
            chosen = [piece.tracks[i] for i in self.tracks if i < len(piece.tracks)]
        groups = track_groups([chosen])
        if groups is None:
            return self._raw_cells_reference(piece)
        notes = groups[0].take(groups[0].order())
        onset = round_div(notes.start * TICKS_PER_QUARTER, notes.ticks_per_quarter)
        length = np.maximum(1, round_div(notes.duration * TICKS_PER_QUARTER,
                                         notes.ticks_per_quarter))
        dt = np.diff(onset, prepend=0)  # the first note's is its onset
        # Notes of one onset share cells of tones_per_cell, low to high in Note order.
        index = np.arange(len(onset))
        run_start = np.maximum.accumulate(np.where((dt != 0) | (index == 0), index, 0))
        slot = (index - run_start) % self.tones_per_cell
        cell = np.cumsum(slot == 0) - 1
        out = np.zeros((len(onset), self.n_features), np.float32)[:cell[-1] + 1 if len(cell)
                                                                   else 0]
        columns = slot * N_FEATURES
        out[cell, columns] = np.where(slot == 0, dt, 0)
        out[cell, columns + 1] = length
        out[cell, columns + 2] = notes.pitch
        out[cell, columns + 3] = notes.velocity
        return out

    def _raw_cells_reference(self, piece: Piece) -> np.ndarray:
        """:meth:`raw_cells` note by note, for notes the array path cannot take."""
        cells: list[list[float]] = []
        previous_onset = None
        open_cell: list[float] | None = None
        for note in self._notes(piece):
            onset = round(note.start * TICKS_PER_QUARTER)
            length = max(1, round(note.duration * TICKS_PER_QUARTER))
            dt = 0 if previous_onset is None else onset - previous_onset
            if self.tones_per_cell > 1 and open_cell is not None and dt == 0 and \
                    len(open_cell) < self.n_features:
                open_cell += [0.0, length, note.pitch, note.velocity]
            else:
                if open_cell is not None:
                    cells.append(open_cell)
                open_cell = [float(dt if previous_onset is not None else onset), length,
                             note.pitch, note.velocity]
            previous_onset = onset
        if open_cell is not None:
            cells.append(open_cell)
        out = np.zeros((len(cells), self.n_features), np.float32)
        for i, cell in enumerate(cells):
            out[i, :len(cell)] = cell
        return out

    def fit(self, pieces: Sequence[Piece]) -> ToneEncoding:
        """Fit the per-feature scales (mean absolute value of used entries) on ``pieces``."""
        raw = [self.raw_cells(p).reshape(-1, N_FEATURES) for p in pieces]
        raw = np.concatenate([r for r in raw if len(r)]) if any(len(r) for r in raw) else None
        if raw is None:
            raise KerasMusicError("no notes to fit tone scales on")
        used = raw[raw[:, 2] > 0]
        scales = np.abs(used).mean(axis=0)
        self.scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
        return self

    def _checked_scales(self) -> np.ndarray:
        if self.scales is None:
            raise KerasMusicError("this tone encoding has no scales yet: call fit(pieces) first")
        return self.scales

    def encode(self, piece: Piece) -> np.ndarray:
        """Scaled features of ``piece``, shape (cells, n_features), float32."""
        scales = np.tile(self._checked_scales(), self.tones_per_cell)
        return self.raw_cells(piece) / scales

    def decode(self, cells: np.ndarray, *, tempo: float = 120.0, name: str = "generated") -> Piece:
        """Scaled features -> a one-track Piece (values rounded and clipped to valid MIDI).

        A slot whose pitch or length rounds to zero or below is treated as unused.
        """
        scales = np.tile(self._checked_scales(), self.tones_per_cell)
        raw = np.asarray(cells, np.float32).reshape(-1, self.n_features) * scales
        notes, onset = [], 0
        for cell in raw:
            slots = cell.reshape(self.tones_per_cell, N_FEATURES)
            onset += max(0, round(float(slots[0, 0])))
            for k, (_, length, pitch, velocity) in enumerate(slots):
                length, pitch = round(float(length)), round(float(pitch))
                if length <= 0 or pitch <= 0:
                    if k == 0:
                        continue
                    break
                notes.append(Note(Fraction(onset, TICKS_PER_QUARTER),
                                  Fraction(length, TICKS_PER_QUARTER),
                                  min(127, pitch), int(np.clip(round(float(velocity)), 1, 127))))
        return Piece([Track(notes, name="generated")], tempo=tempo, name=name)

    def get_config(self) -> dict:
        """JSON-ready description."""
        return {"type": "tones", "tones_per_cell": self.tones_per_cell, "tracks": self.tracks,
                "scales": None if self.scales is None else [float(s) for s in self.scales]}

    CONFIG_SCHEMA = {"tones_per_cell": (INT, True), "tracks": (TRACKS, True),
                     "scales": (or_none(list_of(NUMBER, "numbers")), True)}

    @classmethod
    def from_config(cls, config: dict) -> ToneEncoding:
        """Inverse of :meth:`get_config` (EncodingFileError naming a field that is wrong)."""
        return build_from_config(config, cls.CONFIG_SCHEMA, "tones", "a tone encoding",
                                 lambda c: cls(c["tones_per_cell"], c["tracks"], c["scales"]))

    def save(self, path: str | os.PathLike) -> None:
        """Write the encoding as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ToneEncoding:
        """Read an encoding written by :meth:`save` (EncodingFileError naming the file)."""
        return load_config(path, cls.from_config)
