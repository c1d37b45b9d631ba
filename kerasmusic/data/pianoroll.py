"""Multi-track piano rolls: the representation of MuseGAN.

A phrase is a tensor (n_bars, n_steps_per_bar, n_pitches, n_tracks) with +1 where a
pitch sounds and -1 where it does not; silence is all -1, never a made-up pitch.
Time is quantised to ``step`` quarter notes (1/4: sixteenth notes, so 16 steps make
a 4/4 bar); pitches ``lowest_pitch .. lowest_pitch + n_pitches - 1`` are kept.
Every bar position starts a phrase (``hop_bars=1``), so a piece gives many samples,
not only its first phrase. Decoding merges consecutive sounding steps of a pitch
into one held note (a roll cannot tell a held note from repeated ones).

Tracks are chosen with selectors, one per output track:

- ``2`` (or ``"2"``): the piece's track number 2 (the chorales: 0..3 = S, A, T, B);
- ``"drums"``: every drum track, merged;
- ``"program:33"`` or ``"program:32-39"``: every pitched track with a General MIDI
  program in the range, merged (32-39 = all basses);
- ``"name:piano"``: every track whose name contains the text (any case), merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from kerasmusic.data.config_schema import BOOL, FRACTION, INT, SELECTORS, STRING, list_of, or_none
from kerasmusic.data.json_config import JsonConfigMixin
from kerasmusic.data.limits import check_cells
from kerasmusic.data.notes import (
    Note,
    Piece,
    Track,
    round_div,
    spans_roll,
    track_groups,
)
from kerasmusic.errors import KerasMusicError

TrackSelector = int | str


def _parse_selector(selector: TrackSelector) -> tuple[str, object]:
    """("index", n) | ("drums", None) | ("program", (lo, hi)) | ("name", text)."""
    if isinstance(selector, (int, np.integer)) or str(selector).isdigit():
        return "index", int(selector)
    text = str(selector).strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind == "drums" and not arg:
        return "drums", None
    if kind == "name" and arg:
        return "name", arg.lower()
    if kind == "program" and arg:
        lo, _, hi = arg.partition("-")
        try:
            lo, hi = int(lo), int(hi or lo)
        except ValueError:
            lo = hi = -1
        if 0 <= lo <= hi <= 127:
            return "program", (lo, hi)
    raise KerasMusicError(
        f"bad track selector {selector!r}: use a track number, 'drums', 'program:N', "
        "'program:A-B' (General MIDI 0..127) or 'name:TEXT'")


class MultiTrackPianoRoll(JsonConfigMixin):
    """Pieces <-> piano-roll phrases for MuseGAN.

    Args:
        tracks: one selector per output track, in order (see the module docstring;
            the chorales: ``[0, 1, 2, 3]`` = soprano, alto, tenor, bass).
        n_bars: bars per phrase.
        n_steps_per_bar: steps per bar.
        n_pitches: pitch range size.
        lowest_pitch: MIDI number of pitch index 0 (24 = C1; with 84 pitches up to B7).
        step: quarter notes per step.
        hop_bars: bars between the starts of two phrases of a piece.
        programs: General MIDI program of each output track when decoding (default:
            the low end of a ``program:`` selector, else 0 = piano).
        missing: ``"skip"``: a piece lacking a selected track gives no phrase (and
            :meth:`to_roll` raises); ``"silent"``: the missing track is silence.
        monophonic: each track is one voice: :meth:`binarize` and :meth:`decode` keep
            at most one pitch per step and track (the highest-valued, where > 0). For
            a model's output on voices that sing one note at a time (the chorales'
            S, A, T, B); real data is encoded as it is either way.
    """

    CONFIG_TYPE = "pianoroll"
    CONFIG_NAME = "a piano-roll encoding"
    CONFIG_SCHEMA = {"tracks": (SELECTORS, True), "n_bars": (INT, True),
                     "n_steps_per_bar": (INT, True), "n_pitches": (INT, True),
                     "lowest_pitch": (INT, True), "step": (FRACTION, True),
                     "hop_bars": (INT, False),
                     "programs": (or_none(list_of(INT, "programs")), False),
                     "missing": (STRING, False), "monophonic": (BOOL, False)}

    def __init__(self, tracks: Sequence[TrackSelector] = (0, 1, 2, 3), n_bars: int = 2,
                 n_steps_per_bar: int = 16, n_pitches: int = 84, lowest_pitch: int = 24,
                 step: Fraction | str = Fraction(1, 4), hop_bars: int = 1,
                 programs: Sequence[int] | None = None, missing: str = "skip",
                 monophonic: bool = False):
        if min(n_bars, n_steps_per_bar, n_pitches, hop_bars, len(tracks)) < 1:
            raise KerasMusicError("n_bars, n_steps_per_bar, n_pitches, hop_bars and the "
                                  "number of tracks must all be positive")
        if not (0 <= lowest_pitch and lowest_pitch + n_pitches <= 128):
            raise KerasMusicError(f"pitches {lowest_pitch}..{lowest_pitch + n_pitches - 1} "
                                  "leave the MIDI range 0..127")
        if missing not in ("skip", "silent"):
            raise KerasMusicError(f"missing must be 'skip' or 'silent', got {missing!r}")
        self._selectors = [_parse_selector(t) for t in tracks]
        self.tracks = [arg if kind == "index" else str(t).strip()
                       for t, (kind, arg) in zip(tracks, self._selectors)]
        self.n_bars, self.n_steps_per_bar = int(n_bars), int(n_steps_per_bar)
        self.n_pitches, self.lowest_pitch = int(n_pitches), int(lowest_pitch)
        self.step, self.hop_bars = Fraction(step), int(hop_bars)
        self.missing = missing
        if programs is None:
            programs = [arg[0] if kind == "program" else 0 for kind, arg in self._selectors]
        if len(programs) != len(self.tracks):
            raise KerasMusicError(f"{len(programs)} programs for {len(self.tracks)} tracks")
        self.programs = [int(p) for p in programs]
        self.drums = [kind == "drums" for kind, _ in self._selectors]
        self.monophonic = bool(monophonic)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(n_bars, n_steps_per_bar, n_pitches, n_tracks) of one phrase."""
        return (self.n_bars, self.n_steps_per_bar, self.n_pitches, len(self.tracks))

    def select(self, piece: Piece) -> list[list[Track]]:
        """The piece's tracks that make each output track (empty list: none matched)."""
        chosen = []
        for kind, arg in self._selectors:
            if kind == "index":
                chosen.append([piece.tracks[arg]] if arg < len(piece.tracks) else [])
            elif kind == "drums":
                chosen.append([t for t in piece.tracks if t.is_drum])
            elif kind == "program":
                chosen.append([t for t in piece.tracks
                               if not t.is_drum and arg[0] <= t.program <= arg[1]])
            else:
                chosen.append([t for t in piece.tracks if arg in (t.name or "").lower()])
        return chosen

    def has_tracks(self, piece: Piece) -> bool:
        """True if ``piece`` can be encoded: every selector matches (or missing="silent")."""
        return self.missing == "silent" or all(self.select(piece))

    def to_roll(self, piece: Piece) -> np.ndarray:
        """The whole piece as a boolean roll (steps, n_pitches, n_tracks), whole bars.

        Raises:
            KerasMusicError: a selector matches no track of the piece (missing="skip").
            EncodingError: the roll would be larger than a piece may take
                (:data:`~kerasmusic.data.limits.MAX_CELLS`), e.g. a note of a damaged file
                ending billions of quarter notes in.
        """
        chosen = self._chosen(piece)
        groups = track_groups([[t for ts in chosen for t in ts]], self.step)
        if groups is None:
            return self._to_roll_reference(piece, chosen)
        notes = groups[0]
        step = notes.ticks(self.step)
        n = len(notes)
        if step == 1:
            start, stop = notes.start, notes.end
        else:  # starts and ends in steps, in one rounding
            onsets = round_div(np.concatenate([notes.start, notes.end]), step)
            start, stop = onsets[:n], onsets[n:]
        end = int(stop.max()) if n else 0
        # Up to the end of the last bar: a piece that falls silent before its last bar
        # ends still gives that bar (its silence included).
        bar = self.n_steps_per_bar
        steps = -(-max(1, end) // bar) * bar
        n_tracks = len(chosen)
        check_cells(piece.name or "piece", (steps, self.n_pitches, n_tracks), "piano roll")
        key = (notes.pitch - self.lowest_pitch).astype(np.int64, copy=False)
        # 0 <= key < n_pitches in one comparison: a negative key viewed unsigned is huge.
        keep = (key.view(np.uint64) < self.n_pitches) & (start < steps)
        if n_tracks > 1:
            key = key * n_tracks + np.repeat(
                np.arange(n_tracks), [sum(len(t.arrays()) for t in ts) for ts in chosen])
        # A note shorter than a step still sounds one; none ends after ``steps``.
        stop = np.maximum(start + 1, stop)
        if not keep.all():
            start, stop, key = start[keep], stop[keep], key[keep]
        roll = spans_roll(start, stop, key, steps, self.n_pitches * n_tracks)
        return roll.reshape(steps, self.n_pitches, n_tracks)

    def _chosen(self, piece: Piece) -> list[list[Track]]:
        """:meth:`select`, raising if a selector matches no track and missing="skip"."""
        chosen = self.select(piece)
        if self.missing == "skip":
            for label, tracks in zip(self.track_names, chosen):
                if not tracks:
                    raise KerasMusicError(
                        f"{piece.name or 'piece'}: no track matches {label!r} (the piece "
                        f"has {len(piece.tracks)} tracks: "
                        f"{', '.join(_describe(t) for t in piece.tracks) or 'none'})")
        return chosen

    def _to_roll_reference(self, piece: Piece, chosen: list[list[Track]] | None = None
                           ) -> np.ndarray:
        """:meth:`to_roll` note by note, for notes :func:`track_groups` cannot take."""
        if chosen is None:
            chosen = self._chosen(piece)
        end = max((n.end for ts in chosen for t in ts for n in t.notes), default=Fraction(0))
        bar = self.n_steps_per_bar
        steps = -(-max(1, round(end / self.step)) // bar) * bar
        check_cells(piece.name or "piece", (steps, self.n_pitches, len(chosen)), "piano roll")
        roll = np.zeros((steps, self.n_pitches, len(chosen)), bool)
        for k, tracks in enumerate(chosen):
            for n in (n for t in tracks for n in t.notes):
                p = n.pitch - self.lowest_pitch
                if not 0 <= p < self.n_pitches:
                    continue
                start = round(n.start / self.step)
                stop = max(start + 1, round(n.end / self.step))
                roll[start:stop, p, k] = True
        return roll

    def phrases(self, piece: Piece) -> np.ndarray:
        """Every phrase of ``piece``: (n_phrases, *shape) float32 in {-1, 1}.

        Phrases start every ``hop_bars`` bars; an all-silent phrase is left out.
        """
        roll = self.to_roll(piece)
        length = self.n_bars * self.n_steps_per_bar
        hop = self.hop_bars * self.n_steps_per_bar
        # Overlapping phrases repeat steps: the stack can be n_bars / hop_bars times the roll.
        check_cells(piece.name or "piece", (max(0, len(roll) - length) // hop + 1, *self.shape),
                    "phrases")
        out = []
        for start in range(0, max(0, len(roll) - length) + 1, hop):
            chunk = roll[start:start + length]
            if len(chunk) < length or not chunk.any():
                continue
            out.append(chunk.reshape(self.shape))
        if not out:
            return np.zeros((0, *self.shape), np.float32)
        return np.where(np.stack(out), 1.0, -1.0).astype(np.float32)

    def binarize(self, rolls: np.ndarray) -> np.ndarray:
        """A model's rolls (``(..., *shape)``, any values) -> {-1, 1} rolls as decoded.

        A cell sounds where its value is > 0; a :attr:`monophonic` encoding keeps only
        each step's highest-valued pitch per track (drum tracks stay as they are).
        """
        rolls = np.asarray(rolls, np.float32)
        if rolls.ndim < 4 or rolls.shape[-3:] != self.shape[1:]:
            raise KerasMusicError(f"expected rolls of shape (..., bars, "
                                  f"{', '.join(map(str, self.shape[1:]))}), got {rolls.shape}")
        on = rolls > 0
        if self.monophonic:
            top = rolls == rolls.max(axis=-2, keepdims=True)
            # one pitch per step even on ties: the lowest of the highest values
            top &= np.cumsum(top, axis=-2) == 1
            voices = ~np.asarray(self.drums)
            on[..., voices] &= top[..., voices]
        return np.where(on, 1.0, -1.0).astype(np.float32)

    def decode(self, phrase: np.ndarray, *, tempo: float = 100.0,
               name: str = "generated") -> Piece:
        """A phrase -> a Piece with one track per roll track (see :meth:`binarize`).

        ``phrase`` is (bars, steps, pitches, tracks) with any number of bars (a chain
        of phrases, e.g. from :func:`~kerasmusic.generation.musegan.generate_rolls`);
        a pitch sounding on both sides of a phrase boundary is one held note.
        """
        phrase = np.asarray(phrase)
        if phrase.ndim != 4 or phrase.shape[1:] != self.shape[1:]:
            raise KerasMusicError(f"expected a phrase of shape (bars, "
                                  f"{', '.join(map(str, self.shape[1:]))}), got {phrase.shape}")
        roll = self.binarize(phrase).reshape(-1, self.n_pitches, len(self.tracks)) > 0
        tracks = []
        for k in range(len(self.tracks)):
            notes = []
            for p in range(self.n_pitches):
                column = np.concatenate([[False], roll[:, p, k], [False]])
                edges = np.flatnonzero(column[1:] != column[:-1])
                for start, stop in zip(edges[::2], edges[1::2]):
                    notes.append(Note(start * self.step, (stop - start) * self.step,
                                      p + self.lowest_pitch, 80))
            tracks.append(Track(notes, name=self.track_names[k], program=self.programs[k],
                                is_drum=self.drums[k]))
        return Piece(tracks, tempo=tempo, name=name)

    @property
    def track_names(self) -> list[str]:
        """A label per output track: "track 0", "drums", "program:32-39", ..."""
        return [f"track {t}" if isinstance(t, int) else t for t in self.tracks]

    def get_config(self) -> dict:
        """JSON-ready description."""
        return {"type": "pianoroll", "tracks": self.tracks, "n_bars": self.n_bars,
                "n_steps_per_bar": self.n_steps_per_bar, "n_pitches": self.n_pitches,
                "lowest_pitch": self.lowest_pitch, "step": str(self.step),
                "hop_bars": self.hop_bars, "programs": self.programs, "missing": self.missing,
                "monophonic": self.monophonic}


def _describe(track: Track) -> str:
    if track.is_drum:
        return f"{track.name or 'unnamed'} (drums)"
    return f"{track.name or 'unnamed'} (program {track.program})"
