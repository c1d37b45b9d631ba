"""Statistics of generated (or real) music, as plain numbers.

The C-RNN-GAN paper (Mogren 2016) judges generated music with six statistics,
defined here on a piece's pitched notes in onset order (ties broken by pitch):

- ``tone_span``: highest minus lowest pitch, in semitones;
- ``unique_tones``: number of distinct MIDI pitches;
- ``polyphony``: fraction of notes whose onset is shared with another note;
- ``scale_consistency``: fraction of notes in the best-fitting major or natural
  minor scale over the 12 roots (pitch taken mod 12);
- ``repetitions``: number of pairs of non-overlapping places where the same
  length-3 pitch sequence occurs (the paper's code, see :func:`repetitions`);
- ``intensity_span``: highest minus lowest velocity.

Each function takes a :class:`Piece` or a list of :class:`Note`; ratios of a piece
without notes are NaN. :func:`music_statistics` averages them over many pieces.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from kerasmusic.data.notes import Note, Piece

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_NATURAL_MINOR = (0, 2, 3, 5, 7, 8, 10)
SCALES = {
    f"{root} {mode}": frozenset((root + step) % 12 for step in steps)
    for root in range(12)
    for mode, steps in (("major", _MAJOR), ("minor", _NATURAL_MINOR))
}


def _notes(music: Piece | Iterable[Note]) -> list[Note]:
    notes = music.notes if isinstance(music, Piece) else list(music)
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def tone_span(music: Piece | Iterable[Note]) -> int:
    """Highest minus lowest pitch in semitones (0 without notes)."""
    pitches = [n.pitch for n in _notes(music)]
    return max(pitches) - min(pitches) if pitches else 0


def unique_tones(music: Piece | Iterable[Note]) -> int:
    """Number of distinct MIDI pitches."""
    return len({n.pitch for n in _notes(music)})


def polyphony(music: Piece | Iterable[Note]) -> float:
    """Fraction of notes that start together with at least one other note."""
    notes = _notes(music)
    if not notes:
        return math.nan
    onsets = Counter(n.start for n in notes)
    return sum(1 for n in notes if onsets[n.start] > 1) / len(notes)


def scale_consistency(music: Piece | Iterable[Note]) -> float:
    """Largest fraction of notes inside one major or natural minor scale (12 roots)."""
    notes = _notes(music)
    if not notes:
        return math.nan
    classes = Counter(n.pitch % 12 for n in notes)
    best = max(sum(c for pc, c in classes.items() if pc in scale) for scale in SCALES.values())
    return best / len(notes)


def repetitions(music: Piece | Iterable[Note], length: int = 3) -> int:
    """Pairs of non-overlapping, equal ``length``-note pitch sequences (C-RNN-GAN's count).

    With ``t`` the pitches in onset order (ties by pitch) and ``n = len(t)``, the
    count of pairs ``(i, j)`` with ``j - i >= length``, ``j < n - length`` and
    ``t[i:i + length] == t[j:j + length]``, and 0 when ``n < 2 * length + 2``.
    A sequence found at ``k`` such places adds ``k (k - 1) / 2``, so the count
    grows with the square of a piece's length.

    This is ``repetitions(tones)[length]`` of ``midi_statistics.py`` in
    olofmogren/c-rnn-gan, the code behind the paper's statistics::

        for l in range(2, min(len(tones)//2, 10)):
          for i in range(len(tones)-l*2):
            for j in range(i+l,len(tones)-l):
              if tones[i:i+l] == tones[j:j+l]:
                rs[l] += 1

    Its bounds leave the last window ``t[n - length:]`` out of every comparison
    and skip ``n < 2 * length + 2``; both are kept. The code reports lengths 2 to
    9 only; other lengths here follow the same formula. It reads ``tones`` track
    by track, which is onset order for the one-track MIDI files it generates.

    Raises:
        ValueError: ``length`` is below 1.
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, not {length!r}")
    pitches = [n.pitch for n in _notes(music)]
    if len(pitches) < 2 * length + 2:
        return 0
    starts: dict[tuple[int, ...], list[int]] = {}
    count = 0
    for j in range(len(pitches) - length):
        earlier = starts.setdefault(tuple(pitches[j:j + length]), [])
        count += bisect_right(earlier, j - length)  # earlier starts i <= j - length
        earlier.append(j)
    return count


def intensity_span(music: Piece | Iterable[Note]) -> int:
    """Highest minus lowest velocity (0 without notes)."""
    velocities = [n.velocity for n in _notes(music)]
    return max(velocities) - min(velocities) if velocities else 0


STATISTICS = {
    "polyphony": polyphony,
    "scale_consistency": scale_consistency,
    "repetitions": repetitions,
    "tone_span": tone_span,
    "unique_tones": unique_tones,
    "intensity_span": intensity_span,
}


def music_statistics(pieces: Sequence[Piece | Iterable[Note]]) -> dict[str, float]:
    """Every statistic averaged over ``pieces`` (pieces without notes are left out of ratios)."""
    out = {}
    for name, fn in STATISTICS.items():
        values = [float(fn(p)) for p in pieces]
        values = [v for v in values if not math.isnan(v)]
        out[name] = sum(values) / len(values) if values else math.nan
    return out


def format_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text table: one row per named set of statistics, one column per statistic."""
    columns = list(next(iter(rows.values())).keys()) if rows else []
    width = max([len(name) for name in rows] + [8])
    header = " ".join([f"{'':{width}}"] + [f"{c:>17}" for c in columns])
    lines = [header]
    for name, stats in rows.items():
        lines.append(" ".join([f"{name:{width}}"] + [f"{stats[c]:17.3f}" for c in columns]))
    return "\n".join(lines)
