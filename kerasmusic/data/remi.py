"""REMI-style multi-track tokens (Huang & Yang 2020; multi-track as in MidiTok's REMI).

A piece becomes ONE stream of tokens, bar by bar::

    Bar TimeSig_4/4 Position_0 Tempo_120 Track_0 Pitch_67 Velocity_80 Duration_8
                                         Track_1 Pitch_62 Velocity_80 Duration_8
                    Position_8 Track_0 Pitch_67 Velocity_80 Duration_16 ...
    Bar Position_0 ...

- ``Bar`` opens every bar, empty bars included; ``TimeSig_n/d`` follows the first one.
  The bar length is the time signature's (``n * 4 / d`` quarter notes): a
  :class:`~kerasmusic.Piece` has one time signature, so every bar has that length.
- ``Position_k``: the onset within the bar in steps of ``1 / resolution`` quarter
  note, written once for all the events starting there.
- ``Tempo_q`` (quarter notes per minute, binned) at the first onset, then wherever the
  binned tempo changes (at the step where it changes).
- per note, ``Track_t`` (the note's track: the t-th track read from the piece),
  ``Pitch_p`` for a pitched note or ``Drum_p`` for a drum note (drums have their own
  pitch tokens: a drum note is flagged by its token, and a decoded track of drum
  tokens is a drum track), ``Velocity_v`` (binned) and ``Duration_d`` (steps).
  Notes starting together come by track, then pitch, low to high.
- ``<start>`` (id 0) before a piece and ``<end>`` (id 1) after it, for training.
- ``<sep>`` (the last id), only in an encoding with a ``condition_track``: it ends the
  given track's tokens in an accompaniment example (:meth:`RemiEncoding.
  conditional_sequences`). Without one the vocabulary is as it always was, so saved
  configs without the field load with the same ids.

The vocabulary is fixed by the configuration: every token of every value in range
exists, so nothing ever encodes as unknown. Values out of range are clipped into it:
a pitch to ``pitch_range`` (drums to ``drum_range``), a duration to 1 ..
``max_duration`` quarters (a note shorter than a step lasts one step; longer notes
are clipped, not split: a split note would come back as two notes), a velocity or a
tempo to the nearest bin, a track past the last of ``n_tracks`` to the last, and a
time signature not listed to the listed one with the nearest bar length (ties: the
first listed; the same length keeps every onset where it was, since onsets are
counted from the piece's start). Times are rounded to the step grid, halves to even.

Round trip: a piece whose onsets and durations lie on the grid, with pitches,
durations, tracks and time signature in range, decodes to the same notes (tracks,
pitches, onsets, durations; velocities and tempos as their bins). Programs and track
names are not in the tokens: decoded tracks take ``programs`` from the configuration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from kerasmusic.data.config_schema import INT, STRINGS, list_of, or_none
from kerasmusic.data.json_config import JsonConfigMixin
from kerasmusic.data.notes import MAX_PITCH, MIN_PITCH, Note, Piece, Track, round_div
from kerasmusic.errors import EncodingError, KerasMusicError, VocabularyMismatchError
from kerasmusic.validation import check_count

START = "<start>"
END = "<end>"
SEP = "<sep>"
#: Time signatures of the default vocabulary (a bar of each is a whole number of steps
#: at any resolution that divides by 2).
DEFAULT_TIME_SIGNATURES: tuple[str, ...] = (
    "4/4", "3/4", "2/4", "2/2", "3/2", "4/2", "5/4", "6/4", "7/4",
    "3/8", "5/8", "6/8", "7/8", "9/8", "12/8",
)

# Token kinds, in vocabulary order.
_KINDS = ("special", "bar", "timesig", "position", "tempo", "track", "pitch", "drum",
          "velocity", "duration")


def _time_signature(text: str) -> tuple[int, int]:
    try:
        n, d = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise KerasMusicError(f"a time signature is written like '3/4', got {text!r}") from None
    if n < 1 or d < 1 or d & (d - 1):
        raise KerasMusicError(f"time signature {text!r}: a numerator >= 1 over a power of 2")
    return n, d


def _range(name: str, value: Sequence[int], low: int = MIN_PITCH, high: int = MAX_PITCH
           ) -> tuple[int, int]:
    if len(value) != 2 or not low <= int(value[0]) <= int(value[1]) <= high:
        raise KerasMusicError(f"{name} must be [lowest, highest] within {low}..{high}, "
                              f"got {list(value)}")
    return int(value[0]), int(value[1])


class RemiEncoding(JsonConfigMixin):
    """Encode pieces as REMI-style multi-track token ids and decode them back.

    Args:
        resolution: steps per quarter note. The default 8 (32nd notes) is the
            coarsest grid that holds every onset and duration of the bundled Bach
            chorales exactly (their finest value is a 32nd note; they have no
            triplets). Use 12 or 24 for music with triplets (24 for both).
        n_tracks: ``Track_t`` tokens, t in 0..n_tracks-1.
        tracks: indices of the piece's tracks to read (None: all of them, in order);
            the i-th one read is ``Track_i``.
        pitch_range: [lowest, highest] MIDI pitch of the ``Pitch_p`` tokens.
        drum_range: [lowest, highest] MIDI drum key of the ``Drum_p`` tokens.
        max_duration: the longest ``Duration`` token, in quarter notes.
        velocity_bins: ``Velocity`` tokens: the values ``round(128 i / bins)`` for
            i = 1..bins, the last 127 (8 bins: 16, 32, ... 112, 127).
        tempo_range: [slowest, fastest] ``Tempo`` token in quarter notes per minute.
        tempo_bins: ``Tempo`` tokens, evenly spaced over ``tempo_range`` (the default
            26 over 40..240: every 8).
        time_signatures: the ``TimeSig`` tokens (``"n/d"``); each bar must be a whole
            number of steps. The ``Position`` tokens cover the longest bar.
        programs: the General MIDI program of each decoded track (None: 0 for all).
        seq_len: the window length a model reads (training and generation).
        condition_track: the track (a ``Track_t`` number) an accompaniment model is
            given (None: an unconditional encoding). Adds the ``<sep>`` token.
        condition_bars: bars per accompaniment example (with ``condition_track``).
    """

    CONFIG_TYPE = "remi"
    CONFIG_NAME = "a REMI encoding"
    CONFIG_SCHEMA = {
        "resolution": (INT, True), "n_tracks": (INT, True),
        "tracks": (or_none(list_of(INT, "track numbers")), True),
        "pitch_range": (list_of(INT, "pitches"), True),
        "drum_range": (list_of(INT, "pitches"), True), "max_duration": (INT, True),
        "velocity_bins": (INT, True), "tempo_range": (list_of(INT, "tempos"), True),
        "tempo_bins": (INT, True), "time_signatures": (STRINGS, True),
        "programs": (or_none(list_of(INT, "programs")), True), "seq_len": (INT, True),
        "condition_track": (or_none(INT), False), "condition_bars": (INT, False),
    }

    def __init__(
        self,
        resolution: int = 8,
        n_tracks: int = 16,
        tracks: Sequence[int] | None = None,
        pitch_range: Sequence[int] = (21, 108),
        drum_range: Sequence[int] = (27, 87),
        max_duration: int = 16,
        velocity_bins: int = 8,
        tempo_range: Sequence[int] = (40, 240),
        tempo_bins: int = 26,
        time_signatures: Sequence[str] = DEFAULT_TIME_SIGNATURES,
        programs: Sequence[int] | None = None,
        seq_len: int = 64,
        condition_track: int | None = None,
        condition_bars: int = 2,
    ):
        for name, value in (("resolution", resolution), ("n_tracks", n_tracks),
                            ("max_duration", max_duration), ("velocity_bins", velocity_bins),
                            ("tempo_bins", tempo_bins), ("seq_len", seq_len),
                            ("condition_bars", condition_bars)):
            check_count(name, value)
        if condition_track is not None and not 0 <= int(condition_track) < int(n_tracks):
            raise KerasMusicError(f"condition_track must be a track number in 0..{n_tracks - 1}, "
                                  f"got {condition_track}")
        self.condition_track = None if condition_track is None else int(condition_track)
        self.condition_bars = int(condition_bars)
        if velocity_bins > 127:
            raise KerasMusicError(f"velocity_bins must be at most 127, got {velocity_bins}")
        self.resolution, self.n_tracks = int(resolution), int(n_tracks)
        self.max_duration, self.seq_len = int(max_duration), int(seq_len)
        self.velocity_bins, self.tempo_bins = int(velocity_bins), int(tempo_bins)
        if tracks is not None and any(int(t) < 0 for t in tracks):
            raise KerasMusicError(f"track numbers count from 0, got {list(tracks)}")
        self.tracks = None if tracks is None else [int(t) for t in tracks]
        self.pitch_range = _range("pitch_range", pitch_range)
        self.drum_range = _range("drum_range", drum_range)
        self.tempo_range = _range("tempo_range", tempo_range, 1, 10_000)
        if programs is not None and (len(programs) != self.n_tracks
                                     or not all(0 <= int(p) <= 127 for p in programs)):
            raise KerasMusicError(f"programs must be {self.n_tracks} numbers in 0..127 (one "
                                  f"per track), got {list(programs)}")
        self.programs = None if programs is None else [int(p) for p in programs]
        if not time_signatures:
            raise KerasMusicError("time_signatures must list at least one, e.g. ['4/4']")
        self.time_signatures = [f"{n}/{d}" for n, d in map(_time_signature, time_signatures)]
        if len(set(self.time_signatures)) < len(self.time_signatures):
            raise KerasMusicError(f"time_signatures repeats one: {self.time_signatures}")
        self._bar_steps = []
        for ts in self.time_signatures:
            n, d = _time_signature(ts)
            steps = Fraction(4 * n * self.resolution, d)
            if steps.denominator != 1:
                raise KerasMusicError(f"a bar of {ts} is not a whole number of steps at "
                                      f"resolution {self.resolution}")
            self._bar_steps.append(int(steps))
        self.velocities = np.minimum(
            np.round(np.arange(1, self.velocity_bins + 1) * 128 / self.velocity_bins), 127
        ).astype(np.int64)
        if len(np.unique(self.velocities)) < self.velocity_bins:
            raise KerasMusicError(f"velocity_bins={velocity_bins} gives repeated values")
        low, high = self.tempo_range
        self.tempos = np.linspace(low, high, self.tempo_bins) if self.tempo_bins > 1 \
            else np.array([float(low)])
        sizes = {"special": 2, "bar": 1, "timesig": len(self.time_signatures),
                 "position": max(self._bar_steps), "tempo": self.tempo_bins,
                 "track": self.n_tracks,
                 "pitch": self.pitch_range[1] - self.pitch_range[0] + 1,
                 "drum": self.drum_range[1] - self.drum_range[0] + 1,
                 "velocity": self.velocity_bins,
                 "duration": self.max_duration * self.resolution}
        self.offsets = dict(zip(_KINDS, np.cumsum([0] + [sizes[k] for k in _KINDS])[:-1]
                                .tolist()))
        n_ids = int(sum(sizes.values()))
        kind_of = np.repeat(np.arange(len(_KINDS)), [sizes[k] for k in _KINDS])
        self._kind = kind_of.tolist()
        self._value = (np.arange(n_ids) - np.asarray(
            [self.offsets[k] for k in _KINDS])[kind_of]).tolist()
        if self.condition_track is not None:  # <sep>: a special token after all the others
            self._kind.append(0)
            self._value.append(n_ids)
            n_ids += 1
        self.vocab_size = n_ids

    # --- the vocabulary ---------------------------------------------------------------

    @property
    def start_id(self) -> int:
        """Id of ``<start>``: before a piece, and the padding of short windows."""
        return 0

    @property
    def end_id(self) -> int:
        """Id of ``<end>``: after a piece."""
        return 1

    @property
    def sep_id(self) -> int | None:
        """Id of ``<sep>`` (after the given track of an accompaniment example), or None
        without a ``condition_track``."""
        return None if self.condition_track is None else self.vocab_size - 1

    @property
    def tokens(self) -> list[str]:
        """Every token, by id."""
        names = [START, END, "Bar"] + [f"TimeSig_{t}" for t in self.time_signatures]
        names += [f"Position_{k}" for k in range(max(self._bar_steps))]
        names += [f"Tempo_{q:g}" for q in np.round(self.tempos, 2)]
        names += [f"Track_{t}" for t in range(self.n_tracks)]
        names += [f"Pitch_{p}" for p in range(self.pitch_range[0], self.pitch_range[1] + 1)]
        names += [f"Drum_{p}" for p in range(self.drum_range[0], self.drum_range[1] + 1)]
        names += [f"Velocity_{v}" for v in self.velocities.tolist()]
        names += [f"Duration_{d}" for d in range(1, self.max_duration * self.resolution + 1)]
        return names + ([SEP] if self.condition_track is not None else [])

    def ids_to_tokens(self, ids: Sequence[int]) -> list[str]:
        """Token ids -> token names (EncodingError for an id outside the vocabulary)."""
        names = self.tokens
        return [names[i] for i in self._checked(ids).tolist()]

    def tokens_to_ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Token names -> ids (EncodingError naming a token not in the vocabulary)."""
        index = {name: i for i, name in enumerate(self.tokens)}
        missing = [t for t in tokens if t not in index]
        if missing:
            raise EncodingError("tokens", f"{missing[0]!r} is not a token of this REMI "
                                          "vocabulary")
        return np.asarray([index[t] for t in tokens], np.int64)

    def _checked(self, ids) -> np.ndarray:
        ids = np.asarray(ids, np.int64).reshape(-1)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise EncodingError("ids", f"token ids must be in 0..{self.vocab_size - 1}")
        return ids

    # --- piece -> ids -----------------------------------------------------------------

    def bar_steps(self, time_signature: tuple[int, int]) -> int:
        """Steps of a bar of ``time_signature`` as it is encoded (the listed signature
        with the nearest bar length, see the module docstring)."""
        return self._bar_steps[self._time_signature_index(time_signature)]

    def _time_signature_index(self, time_signature: tuple[int, int]) -> int:
        n, d = time_signature
        text = f"{n}/{d}"
        if text in self.time_signatures:
            return self.time_signatures.index(text)
        want = Fraction(4 * n * self.resolution, d)
        return min(range(len(self._bar_steps)), key=lambda i: abs(self._bar_steps[i] - want))

    def has_tracks(self, piece: Piece) -> bool:
        """True if ``piece`` has every chosen track."""
        return self.tracks is None or all(i < len(piece.tracks) for i in self.tracks)

    def _tracks(self, piece: Piece) -> list[Track]:
        if self.tracks is None:
            return list(piece.tracks)
        if not self.has_tracks(piece):
            raise EncodingError(piece.name, f"has {len(piece.tracks)} tracks, tracks "
                                            f"{self.tracks} were asked for")
        return [piece.tracks[i] for i in self.tracks]

    def _steps(self, track: Track) -> tuple[np.ndarray, ...]:
        """(start, end) of a track's notes in steps (rounded, halves to even), pitches
        and velocities."""
        arrays = track.arrays()
        if arrays is None:  # times too fine for int64 ticks: exact Fractions, note by note
            notes = track.notes
            start = np.array([round(n.start * self.resolution) for n in notes], np.int64)
            end = np.array([round(n.end * self.resolution) for n in notes], np.int64)
            return (start, end, np.array([n.pitch for n in notes], np.int64),
                    np.array([n.velocity for n in notes], np.int64))
        tpq = arrays.ticks_per_quarter
        return (round_div(arrays.start * self.resolution, tpq),
                round_div(arrays.end * self.resolution, tpq), arrays.pitch, arrays.velocity)

    def note_table(self, piece: Piece) -> dict[str, np.ndarray]:
        """The notes of the chosen tracks as the tokens hold them, one array per field:
        ``track``, ``drum`` (bool), ``start`` and ``duration`` (steps), ``pitch``,
        ``velocity`` (the bin's value), sorted as they are written (onset, track, drum,
        pitch, duration, velocity). Values are clipped into range."""
        parts = []
        for i, track in enumerate(self._tracks(piece)):
            start, end, pitch, velocity = self._steps(track)
            low, high = self.drum_range if track.is_drum else self.pitch_range
            start = np.maximum(start, 0)
            parts.append(np.stack([
                np.full(len(start), min(i, self.n_tracks - 1)),
                np.full(len(start), int(track.is_drum)), start,
                np.clip(end - start, 1, self.max_duration * self.resolution),
                np.clip(pitch, low, high),
                self.velocities[self._velocity_bin(velocity)]]) if len(start) else
                np.zeros((6, 0), np.int64))
        table = np.concatenate(parts, axis=1) if parts else np.zeros((6, 0), np.int64)
        table = table[:, np.lexsort(table[[5, 3, 4, 1, 0, 2]])]
        names = ("track", "drum", "start", "duration", "pitch", "velocity")
        out = dict(zip(names, table.astype(np.int64)))
        out["drum"] = out["drum"].astype(bool)
        return out

    def _velocity_bin(self, velocity: np.ndarray) -> np.ndarray:
        """Nearest bin (ties: the lower)."""
        middles = (self.velocities[1:] + self.velocities[:-1]) / 2
        return np.searchsorted(middles, np.asarray(velocity), side="left")

    def quantized_velocity(self, velocity: int) -> int:
        """The velocity a note of ``velocity`` decodes with (its bin's value)."""
        return int(self.velocities[self._velocity_bin(int(velocity))])

    def quantized_tempo(self, qpm: float) -> float:
        """The tempo ``qpm`` decodes as (its bin's value, clipped to ``tempo_range``)."""
        return float(self.tempos[self._tempo_bin(np.array([qpm]))[0]])

    def _tempo_bin(self, qpm: np.ndarray) -> np.ndarray:
        low, high = self.tempo_range
        if self.tempo_bins == 1:
            return np.zeros(len(qpm), np.int64)
        step = (high - low) / (self.tempo_bins - 1)
        return np.clip(np.round((np.asarray(qpm, float) - low) / step), 0,
                       self.tempo_bins - 1).astype(np.int64)

    def _tempo_events(self, piece: Piece) -> tuple[np.ndarray, np.ndarray]:
        """(step, tempo bin) where the binned tempo changes; the first at step 0."""
        steps = np.array([0] + [round(Fraction(t) * self.resolution)
                                for t, _ in piece.tempo_changes], np.int64)
        bins = self._tempo_bin(np.array([piece.tempo] + [q for _, q in piece.tempo_changes]))
        steps = np.maximum(steps, 0)
        order = np.argsort(steps, kind="stable")
        steps, bins = steps[order], bins[order]
        last = np.append(steps[1:] != steps[:-1], True)  # the last change at each step wins
        steps, bins = steps[last], bins[last]
        keep = np.append(True, bins[1:] != bins[:-1])
        return steps[keep], bins[keep]

    def encode(self, piece: Piece) -> np.ndarray:
        """Piece -> token ids (int64), without ``<start>`` / ``<end>``.

        Raises:
            EncodingError: a chosen track is missing.
        """
        notes = self.note_table(piece)
        off = self.offsets
        ts_index = self._time_signature_index(piece.time_signature)
        bar = self._bar_steps[ts_index]
        tempo_step, tempo_bin = self._tempo_events(piece)
        last = max(int(notes["start"].max(initial=0)), int(tempo_step.max(initial=0)))
        n_bars = last // bar + 1
        onsets = np.union1d(notes["start"], tempo_step)
        n_notes = len(notes["start"])
        # One row per group of tokens: (time, rank, order within the time, up to 4 tokens).
        bar_rows = np.full((n_bars, 4), -1)
        bar_rows[:, 0] = off["bar"]
        bar_rows[0, 1] = off["timesig"] + ts_index
        position_rows = np.full((len(onsets), 4), -1)
        position_rows[:, 0] = off["position"] + onsets % bar
        tempo_rows = np.full((len(tempo_step), 4), -1)
        tempo_rows[:, 0] = off["tempo"] + tempo_bin
        pitch_ids = np.where(notes["drum"], off["drum"] + notes["pitch"] - self.drum_range[0],
                             off["pitch"] + notes["pitch"] - self.pitch_range[0])
        note_rows = np.stack([off["track"] + notes["track"], pitch_ids,
                              off["velocity"] + self._velocity_bin(notes["velocity"]),
                              off["duration"] + notes["duration"] - 1], axis=1) \
            if n_notes else np.zeros((0, 4), np.int64)
        rows = np.concatenate([bar_rows, position_rows, tempo_rows, note_rows])
        time = np.concatenate([np.arange(n_bars) * bar, onsets, tempo_step, notes["start"]])
        rank = np.repeat([0, 1, 2, 3], [n_bars, len(onsets), len(tempo_step), n_notes])
        within = np.concatenate([np.zeros(n_bars + len(onsets) + len(tempo_step), np.int64),
                                 np.arange(n_notes)])  # notes already in writing order
        rows = rows[np.lexsort((within, rank, time))].reshape(-1)
        return rows[rows >= 0].astype(np.int64)

    def training_sequence(self, piece: Piece) -> np.ndarray:
        """``<start>``, the piece's ids, ``<end>``: what a model is trained on."""
        return np.concatenate([[self.start_id], self.encode(piece), [self.end_id]]
                              ).astype(np.int64)

    def model_sequences(self, piece: Piece) -> list[np.ndarray]:
        """What a model of this encoding is trained and scored on: the
        :meth:`training_sequence`, or with a ``condition_track`` the
        :meth:`conditional_sequences` (none for a piece without the given track)."""
        if self.condition_track is None:
            return [self.training_sequence(piece)]
        if len(self._tracks(piece)) <= self.condition_track:
            return []
        return self.conditional_sequences(piece)

    def to_tokens(self, piece: Piece) -> list[str]:
        """Piece -> token names (``"Bar"``, ``"Position_0"``, ``"Pitch_60"`` ...)."""
        return self.ids_to_tokens(self.encode(piece))

    # --- accompaniment examples ----------------------------------------------------

    def _require_condition(self) -> int:
        if self.condition_track is None:
            raise KerasMusicError("this REMI encoding has no condition_track: it is not an "
                                  "accompaniment encoding")
        return self.condition_track

    def span_starts(self, piece: Piece) -> list[Fraction]:
        """Start (quarter notes) of each span of ``condition_bars`` bars, to the piece's end."""
        span = Fraction(self.bar_steps(piece.time_signature) * self.condition_bars,
                        self.resolution)
        n = max(int(piece.duration // span) + (piece.duration % span > 0), 1)
        return [span * i for i in range(n)]

    def span_tracks(self, tracks: Sequence[Track], start: Fraction, end: Fraction
                    ) -> list[Track]:
        """``tracks`` with only their notes starting in [start, end), moved ``start``
        earlier."""
        return [dataclasses.replace(t, notes=[dataclasses.replace(n, start=n.start - start)
                                              for n in t.notes if start <= n.start < end])
                for t in tracks]

    def _encode_tracks(self, tracks: Sequence[Track], piece: Piece) -> np.ndarray:
        """The ids of ``tracks`` read as ``Track_0``, ``Track_1``... (tempo and time
        signature of ``piece``, without its tempo changes)."""
        plain = Piece(list(tracks), tempo=piece.tempo, time_signature=piece.time_signature)
        if self.tracks is None:
            return self.encode(plain)
        return RemiEncoding.from_config({**self.get_config(), "tracks": None}).encode(plain)

    def condition_prompt(self, given: Track, piece: Piece, start: Fraction) -> np.ndarray:
        """``<start>``, the ids of ``given`` (as ``Track_{condition_track}``) in the span
        from ``start``, ``<sep>``: what an accompaniment model continues."""
        slot = self._require_condition()
        span = Fraction(self.bar_steps(piece.time_signature) * self.condition_bars,
                        self.resolution)
        tracks = [Track([]) for _ in range(slot)] + [given]
        ids = self._encode_tracks(self.span_tracks(tracks, start, start + span), piece)
        return np.concatenate([[self.start_id], ids, [self.sep_id]]).astype(np.int64)

    def conditional_sequences(self, piece: Piece) -> list[np.ndarray]:
        """The accompaniment examples of ``piece``, one per span of ``condition_bars``
        bars: ``<start>``, the ids of track ``condition_track`` alone in the span,
        ``<sep>``, the ids of the other tracks in the same span, ``<end>``. Both parts
        count bars from the span's first.

        Raises:
            KerasMusicError: not an accompaniment encoding.
            EncodingError: a chosen track is missing.
        """
        slot = self._require_condition()
        tracks = self._tracks(piece)
        if slot >= len(tracks):
            raise EncodingError(piece.name, f"has {len(tracks)} tracks to read, the given "
                                            f"track is Track_{slot}")
        span = Fraction(self.bar_steps(piece.time_signature) * self.condition_bars,
                        self.resolution)
        others = [Track([], is_drum=t.is_drum) if i == slot else t for i, t in enumerate(tracks)]
        out = []
        for start in self.span_starts(piece):
            rest = self._encode_tracks(self.span_tracks(others, start, start + span), piece)
            out.append(np.concatenate([self.condition_prompt(tracks[slot], piece, start), rest,
                                       [self.end_id]]).astype(np.int64))
        return out

    # --- ids -> piece -----------------------------------------------------------------

    def decode_notes(self, ids: Sequence[int]) -> tuple[dict, list, int | None]:
        """The notes of token ids as :meth:`decode` reads them (see there): a dict
        (track number, is drum) -> notes, the (step, tempo) events and the first
        ``TimeSig`` index (None without one)."""
        ids = self._checked(ids)
        default_velocity = self.quantized_velocity(80)
        bar_start, bar, time, track = -1, None, 0, 0
        first_ts = None
        tempos: list[tuple[int, float]] = []
        notes: dict[tuple[int, bool], list[Note]] = {}
        pending = None
        for token in ids.tolist():
            kind, value = _KINDS[self._kind[token]], self._value[token]
            if kind == "special":
                if token == self.end_id:
                    break
            elif kind == "bar":
                if bar is None:
                    bar = self._bar_steps[self.time_signatures.index("4/4")] \
                        if "4/4" in self.time_signatures else self._bar_steps[0]
                bar_start = 0 if bar_start < 0 else bar_start + bar
                time = bar_start
            elif kind == "timesig":
                bar = self._bar_steps[value]
                first_ts = value if first_ts is None else first_ts
            elif kind == "position":
                time = max(bar_start, 0) + value
            elif kind == "tempo":
                tempos.append((time, float(self.tempos[value])))
            elif kind == "track":
                track = value
            elif kind in ("pitch", "drum"):
                drum = kind == "drum"
                low = (self.drum_range if drum else self.pitch_range)[0]
                pending = [track, drum, low + value, default_velocity]
            elif kind == "velocity":
                if pending is not None:
                    pending[3] = int(self.velocities[value])
            elif pending is not None:  # duration
                slot, drum, pitch, velocity = pending
                notes.setdefault((slot, drum), []).append(
                    Note(Fraction(time, self.resolution), Fraction(value + 1, self.resolution),
                         pitch, velocity))
                pending = None
        return notes, tempos, first_ts

    def decoded_track(self, key: tuple[int, bool], notes: list[Note]) -> Track:
        """The track :meth:`decode` makes of the notes of ``key`` (track number, drum)."""
        programs = self.programs or [0] * self.n_tracks
        return Track(notes, name=f"Track {key[0]}", program=programs[key[0]], is_drum=key[1])

    def decode(self, ids: Sequence[int], *, name: str = "generated") -> Piece:
        """Token ids -> Piece (``<start>`` and ``<sep>`` skipped; decoding stops at ``<end>``).

        Any sequence decodes, grammatical or not: ``Bar`` starts the next bar (the
        first one bar 0), ``Position_k`` sets the time within the current bar,
        ``Track_t`` the track of the notes after it (0 before any), ``Pitch_p`` /
        ``Drum_p`` starts a note, ``Velocity_v`` gives it its velocity (default 80's
        bin) and ``Duration_d`` writes it; a note without a duration is dropped.
        ``TimeSig`` sets the length of the following bars (the first one is the
        piece's time signature), ``Tempo`` the tempo from the current time. The tracks
        are one per track number and kind (pitched or drum) that has notes, by track
        number, named ``"Track t"``, with the configuration's ``programs``.
        """
        notes, tempos, first_ts = self.decode_notes(ids)
        tracks = [self.decoded_track(key, notes[key]) for key in sorted(notes)]
        tempos.sort(key=lambda t: t[0])
        tempo = tempos[0][1] if tempos and tempos[0][0] == 0 else 120.0
        changes = [(Fraction(s, self.resolution), q) for s, q in tempos if s > 0]
        ts = _time_signature(self.time_signatures[first_ts]) if first_ts is not None else (4, 4)
        return Piece(tracks, tempo=tempo, time_signature=ts, name=name, tempo_changes=changes)

    def from_tokens(self, tokens: Sequence[str], **kwargs) -> Piece:
        """Token names -> Piece (:meth:`decode`)."""
        return self.decode(self.tokens_to_ids(tokens), **kwargs)

    def check_model(self, model) -> None:
        """Raise VocabularyMismatchError unless ``model`` predicts this vocabulary."""
        size = model.outputs[0].shape[-1]
        if size != self.vocab_size:
            raise VocabularyMismatchError(
                f"the model predicts {size} tokens, the REMI encoding has {self.vocab_size}: "
                "not the encoding it was trained with")

    # --- persistence ------------------------------------------------------------------

    def get_config(self) -> dict:
        """JSON-ready description (the vocabulary follows from it)."""
        return {"type": self.CONFIG_TYPE, "resolution": self.resolution,
                "n_tracks": self.n_tracks, "tracks": self.tracks,
                "pitch_range": list(self.pitch_range), "drum_range": list(self.drum_range),
                "max_duration": self.max_duration, "velocity_bins": self.velocity_bins,
                "tempo_range": list(self.tempo_range), "tempo_bins": self.tempo_bins,
                "time_signatures": list(self.time_signatures), "programs": self.programs,
                "seq_len": self.seq_len, "condition_track": self.condition_track,
                "condition_bars": self.condition_bars}

    def __eq__(self, other) -> bool:
        return isinstance(other, RemiEncoding) and self.get_config() == other.get_config()

    __hash__ = None  # mutable, compared by configuration

    def __repr__(self) -> str:
        return (f"RemiEncoding(resolution={self.resolution}, n_tracks={self.n_tracks}, "
                f"vocab_size={self.vocab_size})")

