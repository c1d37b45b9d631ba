"""Note/duration tokens: the representation of the attention LSTM.

A piece becomes two parallel token sequences, one event per distinct onset:

- pitch tokens: a note name with octave (``"C4"``, ``"F#3"``), a chord as its
  notes joined by ``"."`` from low to high (``"C3.E3.G3"``), ``"rest"`` for
  silence, and ``"<start>"`` for padding before a piece and for its end;
- duration tokens: exact quarter lengths as fractions (``"1"``, ``"1/2"``,
  ``"3/2"``, ``"1/3"``), never floats;
- with ``chords="split"``, a chord is its notes one by one instead, low to high, every
  note but the last with the duration token ``"+"`` ("the chord goes on") and the last
  with the chord's duration: ``("C3", "+"), ("E3", "+"), ("G3", "1")``. The pitch
  vocabulary is then the single pitches (a few dozen), not every chord the corpus
  happens to contain (thousands on the four-voice chorales, many seen once), and a
  held-out chord is always made of known tokens;
- ``"<unk>"`` in both vocabularies: what a token the vocabulary has never seen (a new
  chord, a new duration) encodes as. :meth:`NoteDurationEncoding.fit` also maps the
  tokens seen fewer than ``min_count`` times in training to it, so a model learns how
  likely something unseen is; generation never samples it.

Encoding and decoding both live in :class:`NoteDurationEncoding`, so generation
code never repeats the rules. Notes that start together form one chord whose
length runs to the end of its longest note or to the next onset, whichever is
first; a gap before the next onset becomes a rest. A note still sounding when a
later onset arrives is therefore cut there (voice leading across onsets is not
kept: use one track, or accept block chords).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from kerasmusic.data.config_schema import (
    FRACTION,
    INT,
    STRING,
    TRACKS,
    VOCABULARY,
    build_from_config,
    load_config,
    or_none,
)
from kerasmusic.data.notes import Note, Piece, Track, round_div, track_groups
from kerasmusic.data.vocabulary import Vocabulary
from kerasmusic.errors import KerasMusicError, VocabularyError

START = "<start>"
REST = "rest"
UNK = "<unk>"
#: Duration token of every note of a split chord but its last: more notes start here.
CHORD_GOES_ON = "+"
#: How chords become tokens: one token per chord, or a token per note.
CHORD_MODES = ("joined", "split")

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Flats are accepted with "b" only: "B-1" is B in octave -1 (MIDI 11), not B-flat 1.
_FLATS = {"Db": 1, "Eb": 3, "Gb": 6, "Ab": 8, "Bb": 10}
_PITCH_CLASS = {name: i for i, name in enumerate(_NAMES)} | _FLATS


def pitch_name(pitch: int) -> str:
    """MIDI number -> name with octave, sharps only (60 -> ``"C4"``)."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def pitch_number(name: str) -> int:
    """Name with octave -> MIDI number (``"C4"`` -> 60, ``"Eb4"`` -> 63)."""
    for cut in (2, 1):
        head, octave = name[:cut], name[cut:]
        if head in _PITCH_CLASS and octave.lstrip("-").isdigit():
            value = _PITCH_CLASS[head] + 12 * (int(octave) + 1)
            if 0 <= value <= 127:
                return value
    raise VocabularyError(f"{name!r} is not a pitch name such as 'C4' or 'F#3'")


def duration_token(quarters: Fraction) -> str:
    """Exact quarter length -> token (``Fraction(3, 2)`` -> ``"3/2"``)."""
    return str(Fraction(quarters))


_PITCH_NAMES = [pitch_name(p) for p in range(128)]


class _DurationTokens(dict):
    """Duration token of a number of ticks, each made once."""

    def __init__(self, ticks_per_quarter: int):
        super().__init__()
        self.ticks_per_quarter = ticks_per_quarter

    def __missing__(self, ticks: int) -> str:
        token = self[ticks] = duration_token(Fraction(ticks, self.ticks_per_quarter))
        return token


def _quantize(value: Fraction, grid: Fraction | None) -> Fraction:
    if grid is None:
        return value
    return round(value / grid) * grid


class NoteDurationEncoding:
    """Encode pieces as pitch/duration token ids and decode them back.

    Args:
        pitch_vocabulary: vocabulary of pitch tokens (``"<start>"`` first).
        duration_vocabulary: vocabulary of duration tokens (``"<start>"`` first).
        seq_len: window length the model is trained on.
        tracks: indices of the tracks to read from a piece; None means every
            non-drum track (chords across parts). ``[0]`` keeps the first part
            only, e.g. the soprano of a chorale.
        grid: onsets and lengths are rounded to multiples of this many quarters
            (default 1/24: exact for 32nd notes and triplets).
        min_count: :meth:`fit` keeps a token only if the training pieces have it at
            least this often; rarer ones (and any token never seen) encode as
            ``"<unk>"``. 1 keeps every token seen.
        chords: ``"joined"`` (a chord is one pitch token, ``"C3.E3.G3"``: the seed's
            representation) or ``"split"`` (a token per note, ``"+"`` durations until
            the chord's last note: a closed vocabulary for polyphonic parts). A
            single line has no chords and encodes the same either way.

    Build one from data with :meth:`fit`; save it with the model with :meth:`save`.
    """

    def __init__(
        self,
        pitch_vocabulary: Vocabulary | None = None,
        duration_vocabulary: Vocabulary | None = None,
        seq_len: int = 32,
        tracks: Sequence[int] | None = None,
        grid: Fraction | str | None = Fraction(1, 24),
        min_count: int = 1,
        chords: str = "joined",
    ):
        if chords not in CHORD_MODES:
            raise KerasMusicError(f"chords must be one of {CHORD_MODES}, got {chords!r}")
        if seq_len < 1:
            raise KerasMusicError(f"seq_len must be at least 1, got {seq_len}")
        if int(min_count) < 1:
            raise KerasMusicError(f"min_count must be at least 1, got {min_count}")
        if tracks is not None and any(int(t) < 0 for t in tracks):
            raise KerasMusicError(f"track numbers count from 0, got {list(tracks)}")
        self.pitch_vocabulary = pitch_vocabulary
        self.duration_vocabulary = duration_vocabulary
        self.seq_len = int(seq_len)
        self.tracks = None if tracks is None else [int(t) for t in tracks]
        self.grid = None if grid is None else Fraction(grid)
        self.min_count = int(min_count)
        self.chords = chords

    # --- piece <-> tokens ---------------------------------------------------

    def has_tracks(self, piece: Piece) -> bool:
        """True if ``piece`` has every chosen track, none of them drums."""
        return self.tracks is None or all(
            i < len(piece.tracks) and not piece.tracks[i].is_drum for i in self.tracks)

    def _tracks(self, piece: Piece) -> list[Track]:
        """The chosen tracks (KerasMusicError: one is missing or is a drum track)."""
        if self.tracks is None:
            tracks = [t for t in piece.tracks if not t.is_drum]
        else:
            for i in self.tracks:
                if i >= len(piece.tracks):
                    raise KerasMusicError(f"{piece.name or 'piece'}: has {len(piece.tracks)} "
                                          f"tracks, track {i} was asked for")
                if piece.tracks[i].is_drum:
                    raise KerasMusicError(f"{piece.name or 'piece'}: track {i} is a drum track; "
                                          "pitch tokens need pitched tracks")
            tracks = [piece.tracks[i] for i in self.tracks]
        return tracks

    def select_notes(self, piece: Piece) -> list[Note]:
        """The notes of the chosen tracks, quantised to the grid, sorted.

        Raises:
            KerasMusicError: a chosen track is missing or is a drum track.
        """
        notes = []
        for n in itertools.chain.from_iterable(t.notes for t in self._tracks(piece)):
            start = _quantize(n.start, self.grid)
            end = _quantize(n.end, self.grid)
            if end > start:
                notes.append(Note(start, end - start, n.pitch, n.velocity))
        return sorted(notes)

    def to_tokens(self, piece: Piece) -> list[tuple[str, str]]:
        """Piece -> list of (pitch token, duration token) events, rests included."""
        grid = () if self.grid is None else (self.grid,)
        groups = track_groups([self._tracks(piece)], *grid)
        if groups is None:
            return self._to_tokens_reference(piece)
        notes = groups[0]
        start, end = notes.start, notes.end
        if self.grid is not None:
            grid_ticks = notes.ticks(self.grid)
            start = round_div(start, grid_ticks) * grid_ticks
            end = round_div(end, grid_ticks) * grid_ticks
        sounding = end > start
        start, end, pitch = start[sounding], end[sounding], notes.pitch[sounding]
        if not len(start):
            return []
        order = np.lexsort((pitch, start))
        start, end, pitch = start[order], end[order], pitch[order]
        first = np.flatnonzero(np.append(True, start[1:] != start[:-1]))
        onset = start[first]
        # A chord lasts to its longest note's end or to the next onset, whichever is first.
        stop = np.minimum(np.maximum.reduceat(end, first), np.append(onset[1:], end.max()))
        gap = onset - np.append(0, stop[:-1])
        new_pitch = np.append(True, (start[1:] != start[:-1]) | (pitch[1:] != pitch[:-1]))
        chord_of = np.cumsum(np.append(True, start[1:] != start[:-1]))[new_pitch] - 1
        names = [_PITCH_NAMES[p] for p in pitch[new_pitch].tolist()]
        bounds = np.searchsorted(chord_of, np.arange(len(onset) + 1)).tolist()
        token = _DurationTokens(notes.ticks_per_quarter)
        events: list[tuple[str, str]] = []
        split = self.chords == "split"
        for i, (rest, length) in enumerate(zip(gap.tolist(), (stop - onset).tolist())):
            if rest > 0:
                events.append((REST, token[rest]))
            chord = names[bounds[i]:bounds[i + 1]]
            if split:
                events.extend((name, CHORD_GOES_ON) for name in chord[:-1])
                events.append((chord[-1], token[length]))
            else:
                events.append((".".join(chord), token[length]))
        return events

    def _to_tokens_reference(self, piece: Piece) -> list[tuple[str, str]]:
        """:meth:`to_tokens` note by note, for notes the array path cannot take."""
        events: list[tuple[str, str]] = []
        groups = [
            (start, list(group))
            for start, group in itertools.groupby(self.select_notes(piece), key=lambda n: n.start)
        ]
        time = Fraction(0)
        for i, (start, group) in enumerate(groups):
            if start > time:
                events.append((REST, duration_token(start - time)))
            end = max(n.end for n in group)
            if i + 1 < len(groups):
                end = min(end, groups[i + 1][0])
            names = [pitch_name(p) for p in sorted({n.pitch for n in group})]
            duration = duration_token(end - start)
            if self.chords == "split":
                events.extend((name, CHORD_GOES_ON) for name in names[:-1])
                events.append((names[-1], duration))
            else:
                events.append((".".join(names), duration))
            time = end
        return events

    def from_tokens(
        self, events: Sequence[tuple[str, str]], *, tempo: float = 120.0, velocity: int = 80,
        name: str = "generated", program: int = 0,
    ) -> Piece:
        """(pitch token, duration token) events -> a one-track Piece.

        ``"<start>"`` and ``"<unk>"`` events are skipped; rests advance time. Notes with
        the duration ``"+"`` wait for the next event with a duration and sound with it
        (a split chord); any still waiting at the end have no length and are dropped.
        """
        notes, time = [], Fraction(0)
        waiting: list[int] = []
        for pitch_token, dur_token in events:
            if START in (pitch_token, dur_token) or UNK in (pitch_token, dur_token):
                continue
            pitches = [] if pitch_token == REST else \
                [pitch_number(name_) for name_ in pitch_token.split(".")]
            if dur_token == CHORD_GOES_ON:
                waiting.extend(pitches)
                continue
            duration = Fraction(dur_token)
            for pitch in dict.fromkeys(waiting + pitches):
                notes.append(Note(time, duration, pitch, velocity))
            waiting = []
            time += duration
        return Piece([Track(notes, name="generated", program=program)], tempo=tempo, name=name)

    # --- tokens <-> ids -----------------------------------------------------

    def fit(self, pieces: Sequence[Piece]) -> NoteDurationEncoding:
        """Build both vocabularies from ``pieces``.

        ``"<start>"`` is id 0 in each, ``"<unk>"`` follows the specials (pitch: start,
        rest, unk; duration: start, ``"+"`` if split chords occur, unk); tokens seen
        fewer than ``min_count`` times are left to ``"<unk>"``.
        """
        token_lists = [self.to_tokens(p) for p in pieces]
        pitch_tokens = [[p for p, _ in events] for events in token_lists]
        dur_tokens = [[d for _, d in events] for events in token_lists]
        self.pitch_vocabulary = Vocabulary.from_sequences(
            pitch_tokens, specials=[START, REST], name="pitch", sort_key=pitch_sort_key,
            unknown=UNK, min_count=self.min_count,
        )
        self.duration_vocabulary = Vocabulary.from_sequences(
            dur_tokens, name="duration", sort_key=Fraction,
            specials=[START] + [CHORD_GOES_ON] * any(CHORD_GOES_ON in d for d in dur_tokens),
            unknown=UNK, min_count=self.min_count,
        )
        return self

    def _vocabularies(self) -> tuple[Vocabulary, Vocabulary]:
        if self.pitch_vocabulary is None or self.duration_vocabulary is None:
            raise VocabularyError("this encoding has no vocabularies yet: call fit(pieces) first")
        return self.pitch_vocabulary, self.duration_vocabulary

    @property
    def n_pitches(self) -> int:
        """Size of the pitch vocabulary (the model's ``n_notes``)."""
        return len(self._vocabularies()[0])

    @property
    def n_durations(self) -> int:
        """Size of the duration vocabulary (the model's ``n_durations``)."""
        return len(self._vocabularies()[1])

    def encode_events(self, events: Sequence[tuple[str, str]]) -> tuple[list[int], list[int]]:
        """Events -> (pitch ids, duration ids).

        Unseen tokens become ``"<unk>"``'s id; in an encoding saved before ``"<unk>"``
        existed they raise UnknownTokenError.
        """
        pv, dv = self._vocabularies()
        return pv.encode(p for p, _ in events), dv.encode(d for _, d in events)

    def decode_ids(self, pitch_ids: Sequence[int], duration_ids: Sequence[int]) -> list[tuple]:
        """(pitch ids, duration ids) -> events."""
        pv, dv = self._vocabularies()
        return list(zip(pv.decode(pitch_ids), dv.decode(duration_ids)))

    def encode(self, piece: Piece) -> tuple[list[int], list[int]]:
        """Piece -> (pitch ids, duration ids), without padding."""
        return self.encode_events(self.to_tokens(piece))

    def decode(self, pitch_ids: Sequence[int], duration_ids: Sequence[int], **kwargs) -> Piece:
        """(pitch ids, duration ids) -> Piece; keyword arguments go to :meth:`from_tokens`."""
        return self.from_tokens(self.decode_ids(pitch_ids, duration_ids), **kwargs)

    def training_sequence(self, piece: Piece) -> tuple[list[int], list[int]]:
        """Ids for training: ``seq_len`` start tokens, the piece, then one start token.

        The leading start tokens teach the model how a piece opens (and are the
        primer of an unprimed generation); the closing one teaches it to end.
        """
        pitches, durations = self.encode(piece)
        pad = [0] * self.seq_len
        return pad + pitches + [0], pad + durations + [0]

    def primer(self, events: Sequence[tuple[str, str]] = ()) -> tuple[list[int], list[int]]:
        """A ``seq_len`` window of ids ending with ``events``, start-padded on the left."""
        pitches, durations = self.encode_events(events)
        pad = [0] * self.seq_len
        return (pad + pitches)[-self.seq_len:], (pad + durations)[-self.seq_len:]

    # --- persistence -------------------------------------------------------

    def get_config(self) -> dict:
        """JSON-ready description, vocabularies included."""
        pv, dv = self._vocabularies()
        return {
            "type": "note_duration",
            "seq_len": self.seq_len,
            "tracks": self.tracks,
            "grid": None if self.grid is None else str(self.grid),
            "min_count": self.min_count,
            "chords": self.chords,
            "pitch_vocabulary": pv.get_config(),
            "duration_vocabulary": dv.get_config(),
        }

    CONFIG_SCHEMA = {"seq_len": (INT, True), "tracks": (TRACKS, True),
                     "grid": (or_none(FRACTION), True), "min_count": (INT, False),
                     "chords": (STRING, False), "pitch_vocabulary": (VOCABULARY, True),
                     "duration_vocabulary": (VOCABULARY, True)}

    @classmethod
    def from_config(cls, config: dict) -> NoteDurationEncoding:
        """Inverse of :meth:`get_config`.

        Raises:
            EncodingFileError: a field is missing, of the wrong type or out of range.
        """
        return build_from_config(config, cls.CONFIG_SCHEMA, "note_duration",
                                 "a note/duration encoding", lambda c: cls(
                                     Vocabulary.from_config(c["pitch_vocabulary"]),
                                     Vocabulary.from_config(c["duration_vocabulary"]),
                                     seq_len=c["seq_len"], tracks=c["tracks"], grid=c["grid"],
                                     min_count=c.get("min_count", 1),
                                     chords=c.get("chords", "joined")))

    def save(self, path: str | os.PathLike) -> None:
        """Write the encoding (vocabularies, seq_len, tracks, grid) as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NoteDurationEncoding:
        """Read an encoding written by :meth:`save` (EncodingFileError naming the file)."""
        return load_config(path, cls.from_config)


def pitch_sort_key(token: str) -> tuple:
    """Sort pitch tokens by their pitches, low to high (chords after single notes)."""
    parts = token.split(".")
    return (len(parts), [pitch_number(p) for p in parts])
