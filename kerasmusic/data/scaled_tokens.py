"""Note tokens scaled to [-1, 1]: the data of the seed chapter's simplified C-RNN-GAN.

A piece becomes its sequence of pitch tokens (notes, chords, rests: the same tokens
as :class:`NoteDurationEncoding`), each token id ``i`` of a vocabulary of ``V``
tokens mapped to ``2 i / (V - 1) - 1``. Decoding maps a value back to the nearest id
and token, using the real vocabulary (the seed's code hard-codes its size and keeps
one character per token; this does neither). Durations are not modelled: every
decoded event lasts ``step`` quarter notes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from kerasmusic.data.config_schema import (
    FRACTION,
    TRACKS,
    VOCABULARY,
    build_from_config,
    load_config,
)
from kerasmusic.data.note_tokens import REST, NoteDurationEncoding, duration_token, pitch_sort_key
from kerasmusic.data.notes import Piece
from kerasmusic.data.vocabulary import Vocabulary
from kerasmusic.errors import KerasMusicError


class ScaledTokenEncoding:
    """Pieces <-> (events, 1) arrays of pitch-token ids scaled to [-1, 1].

    Args:
        vocabulary: the pitch-token vocabulary; set by :meth:`fit`.
        tracks: tracks to read (None: every non-drum track, chords across parts).
        step: length in quarter notes of every decoded event.
    """

    n_features = 1

    def __init__(self, vocabulary: Vocabulary | None = None,
                 tracks: Sequence[int] | None = None, step: Fraction | str = Fraction(1, 2)):
        self.vocabulary = vocabulary
        self.tracks = None if tracks is None else [int(t) for t in tracks]
        self.step = Fraction(step)
        self._tokens = NoteDurationEncoding(tracks=self.tracks)

    def pitch_tokens(self, piece: Piece) -> list[str]:
        """The piece's pitch tokens (notes, chords, rests) in order."""
        return [pitch for pitch, _ in self._tokens.to_tokens(piece)]

    def fit(self, pieces: Sequence[Piece]) -> ScaledTokenEncoding:
        """Build the vocabulary from every token of ``pieces`` (at least two tokens)."""
        self.vocabulary = Vocabulary.from_sequences(
            (self.pitch_tokens(p) for p in pieces), specials=[REST], name="pitch",
            sort_key=pitch_sort_key)
        if len(self.vocabulary) < 2:
            raise KerasMusicError("scaled tokens need at least two distinct tokens")
        return self

    def _vocab(self) -> Vocabulary:
        if self.vocabulary is None:
            raise KerasMusicError("this encoding has no vocabulary yet: call fit(pieces) first")
        return self.vocabulary

    def encode(self, piece: Piece) -> np.ndarray:
        """Scaled ids, shape (events, 1), float32 in [-1, 1]."""
        ids = np.asarray(self._vocab().encode(self.pitch_tokens(piece)), np.float32)
        return (2.0 * ids / (len(self.vocabulary) - 1) - 1.0)[:, None]

    def decode_tokens(self, values: np.ndarray) -> list[str]:
        """Values in [-1, 1] -> the nearest tokens of the vocabulary."""
        n = len(self._vocab())
        ids = np.rint((np.asarray(values, np.float64).reshape(-1) + 1.0) * (n - 1) / 2.0)
        return self.vocabulary.decode(np.clip(ids, 0, n - 1).astype(int))

    def decode(self, values: np.ndarray, *, tempo: float = 120.0,
               name: str = "generated") -> Piece:
        """Values in [-1, 1] -> a one-track Piece, every event ``step`` long."""
        events = [(token, duration_token(self.step)) for token in self.decode_tokens(values)]
        return self._tokens.from_tokens(events, tempo=tempo, name=name)

    def get_config(self) -> dict:
        """JSON-ready description."""
        return {"type": "scaled_tokens", "tracks": self.tracks, "step": str(self.step),
                "vocabulary": self._vocab().get_config()}

    CONFIG_SCHEMA = {"tracks": (TRACKS, True), "step": (FRACTION, True),
                     "vocabulary": (VOCABULARY, True)}

    @classmethod
    def from_config(cls, config: dict) -> ScaledTokenEncoding:
        """Inverse of :meth:`get_config` (EncodingFileError naming a field that is wrong)."""
        return build_from_config(config, cls.CONFIG_SCHEMA, "scaled_tokens",
                                 "a scaled-token encoding", lambda c: cls(
                                     Vocabulary.from_config(c["vocabulary"]), c["tracks"],
                                     c["step"]))

    def save(self, path: str | os.PathLike) -> None:
        """Write the encoding as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ScaledTokenEncoding:
        """Read an encoding written by :meth:`save` (EncodingFileError naming the file)."""
        return load_config(path, cls.from_config)
