"""MuseGAN's metrics on multi-track piano rolls, as plain numbers.

Rolls are arrays (n_samples, n_bars, n_steps_per_bar, n_pitches, n_tracks) or one
phrase without the first axis; a cell sounds where its value is > 0. Per-track
metrics return one value per track (NaN where a track gives nothing to measure).

- :func:`empty_bars` (EB): fraction of bars in which the track is silent;
- :func:`used_pitch_classes` (UPC): distinct pitch classes (pitch mod 12, 0..12)
  per non-empty bar;
- :func:`qualified_notes` (QN): fraction of notes at least ``min_steps`` steps long
  (3 by default, as in the paper);
- :func:`polyphony`: fraction of sounding steps with at least ``min_pitches`` pitches;
- :func:`drum_pattern` (DP): fraction of a drum track's onsets on the grid
  (every ``grid`` steps of the bar: 8th notes at 16 steps per bar);
- :func:`tonal_distance` (TD): Harte et al.'s tonal-centroid distance between two
  tracks, averaged over the beats in which both sound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

# Harte, Sandler & Gasser (2006): 6-D tonal centroid of a chroma vector.
_ANGLES = (7 * np.pi / 6, 3 * np.pi / 2, 2 * np.pi / 3)
_RADII = (1.0, 1.0, 0.5)
_PITCH_CLASSES = np.arange(12)
TONAL_MATRIX = np.array([
    f(_PITCH_CLASSES * angle) * r
    for angle, r in zip(_ANGLES, _RADII)
    for f in (np.sin, np.cos)
])  # (6, 12): rows sin/cos of fifths, minor thirds, major thirds


def _on(rolls) -> np.ndarray:
    rolls = np.asarray(rolls)
    if rolls.ndim == 4:
        rolls = rolls[None]
    if rolls.ndim != 5:
        raise ValueError(f"rolls must be (samples, bars, steps, pitches, tracks), got "
                         f"{rolls.shape}")
    return rolls > 0


def empty_bars(rolls) -> np.ndarray:
    """EB per track: fraction of bars without any sounding cell."""
    on = _on(rolls)
    return (~on.any(axis=(2, 3))).mean(axis=(0, 1))


def used_pitch_classes(rolls, lowest_pitch: int = 24) -> np.ndarray:
    """UPC per track: mean number of pitch classes used in a non-empty bar."""
    on = _on(rolls)
    pitch_class = (np.arange(on.shape[3]) + lowest_pitch) % 12
    per_bar_pitch = on.any(axis=2)  # (samples, bars, pitches, tracks)
    classes = np.zeros(per_bar_pitch.shape[:2] + (12, on.shape[4]), bool)
    for pc in range(12):
        classes[:, :, pc] = per_bar_pitch[:, :, pitch_class == pc].any(axis=2)
    count = classes.sum(axis=2).astype(float)  # (samples, bars, tracks)
    nonempty = per_bar_pitch.any(axis=2)
    with np.errstate(invalid="ignore"):
        return np.where(nonempty, count, 0).sum(axis=(0, 1)) / nonempty.sum(axis=(0, 1))


def _note_runs(on: np.ndarray):
    """Yield (track, length, start step in the bar) of every note of a sample's time line."""
    samples, bars, steps, pitches, tracks = on.shape
    lines = on.reshape(samples, bars * steps, pitches, tracks)
    padded = np.pad(lines, ((0, 0), (1, 1), (0, 0), (0, 0)))
    change = np.diff(padded.astype(np.int8), axis=1)
    for s, t_start, p, k in zip(*np.nonzero(change == 1)):
        t_stop = t_start + np.argmax(change[s, t_start + 1:, p, k] == -1) + 1
        yield k, t_stop - t_start, t_start % steps


def qualified_notes(rolls, min_steps: int = 3) -> np.ndarray:
    """QN per track: fraction of notes lasting ``min_steps`` steps or more."""
    on = _on(rolls)
    total = np.zeros(on.shape[4])
    good = np.zeros(on.shape[4])
    for k, length, _ in _note_runs(on):
        total[k] += 1
        good[k] += length >= min_steps
    with np.errstate(invalid="ignore", divide="ignore"):
        return good / total


def polyphony(rolls, min_pitches: int = 2) -> np.ndarray:
    """Per track: fraction of sounding steps with at least ``min_pitches`` pitches on."""
    counts = _on(rolls).sum(axis=3)  # (samples, bars, steps, tracks)
    sounding = (counts > 0).sum(axis=(0, 1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts >= min_pitches).sum(axis=(0, 1, 2)) / sounding


def drum_pattern(rolls, track: int, grid: int = 2) -> float:
    """DP: fraction of the track's onsets at bar steps that are multiples of ``grid``."""
    onsets = [start for k, _, start in _note_runs(_on(rolls)) if k == track]
    return float(np.mean([s % grid == 0 for s in onsets])) if onsets else float("nan")


def tonal_centroid(chroma) -> np.ndarray:
    """6-D tonal centroid of a 12-bin chroma vector (L1-normalised first)."""
    chroma = np.asarray(chroma, float)
    total = np.abs(chroma).sum()
    return TONAL_MATRIX @ (chroma / total) if total else np.zeros(6)


def tonal_distance(rolls, track_a: int, track_b: int, lowest_pitch: int = 24,
                   steps_per_beat: int = 4) -> float:
    """TD: mean distance between the two tracks' tonal centroids per beat (both sounding)."""
    on = _on(rolls)
    samples, bars, steps, pitches, _ = on.shape
    lines = on.reshape(samples, bars * steps, pitches, -1)
    beats = lines.shape[1] // steps_per_beat
    pitch_class = (np.arange(pitches) + lowest_pitch) % 12
    distances = []
    for s in range(samples):
        for b in range(beats):
            window = lines[s, b * steps_per_beat:(b + 1) * steps_per_beat]
            chroma_a = np.bincount(pitch_class, window[..., track_a].sum(axis=0), 12)
            chroma_b = np.bincount(pitch_class, window[..., track_b].sum(axis=0), 12)
            if chroma_a.any() and chroma_b.any():
                distances.append(np.linalg.norm(tonal_centroid(chroma_a)
                                                - tonal_centroid(chroma_b)))
    return float(np.mean(distances)) if distances else float("nan")


def roll_statistics(rolls, lowest_pitch: int = 24, drum_track: int | None = None) -> dict:
    """All metrics of ``rolls``: per-track lists, TD for every track pair, DP if drums."""
    on = _on(rolls)
    n_tracks = on.shape[4]
    stats = {
        "EB": empty_bars(on).tolist(),
        "UPC": used_pitch_classes(on, lowest_pitch).tolist(),
        "QN": qualified_notes(on).tolist(),
        "polyphony": polyphony(on).tolist(),
        "TD": {f"{a}-{b}": tonal_distance(on, a, b, lowest_pitch)
               for a in range(n_tracks) for b in range(a + 1, n_tracks)},
    }
    if drum_track is not None:
        stats["DP"] = drum_pattern(on, drum_track)
    return stats


def roll_summary(rolls, lowest_pitch: int = 24, drum_track: int | None = None) -> dict:
    """One number per metric: EB, UPC, QN, polyphony averaged over tracks, TD over pairs.

    NaNs (a track with nothing to measure) are left out of the means; DP is added when
    ``drum_track`` is given. For a table of several sets of rolls, pass the dicts to
    :func:`kerasmusic.metrics.format_table`.
    """
    stats = roll_statistics(rolls, lowest_pitch, drum_track)

    def mean(values) -> float:
        values = [v for v in values if not np.isnan(v)]
        return float(np.mean(values)) if values else float("nan")

    summary = {key: mean(stats[key]) for key in ("EB", "UPC", "QN", "polyphony")}
    summary["TD"] = mean(stats["TD"].values())
    if drum_track is not None:
        summary["DP"] = stats["DP"]
    return summary


#: The quality targets of generated rolls against real ones, per track (issue 12):
#: QN at least 0.8x real, UPC within 1.0 of real, EB within 0.1 of real, polyphony
#: at most 2x real.
ROLL_TARGETS = {"QN": "at least 0.8x real", "UPC": "within 1.0 of real",
                "EB": "within 0.1 of real", "polyphony": "at most 2x real"}


def _meets(metric: str, real: float, generated: float) -> bool:
    if np.isnan(real) or np.isnan(generated):
        return False
    if metric == "QN":
        return generated >= 0.8 * real
    if metric == "UPC":
        return abs(generated - real) <= 1.0
    if metric == "EB":
        return abs(generated - real) <= 0.1
    # A real voice may never sound two pitches at once: then no more than 0.001.
    return generated <= max(2 * real, 1e-3)


@dataclasses.dataclass
class RollComparison:
    """Generated rolls measured against real ones, track by track.

    Attributes:
        track_names: a label per track.
        real, generated: :func:`roll_statistics` of each set.
        n_real, n_generated: phrases in each set.
    """

    track_names: list[str]
    real: dict
    generated: dict
    n_real: int
    n_generated: int

    def targets(self) -> dict[str, list[bool]]:
        """Per metric of :data:`ROLL_TARGETS`, whether each track meets it."""
        return {m: [_meets(m, r, g) for r, g in zip(self.real[m], self.generated[m])]
                for m in ROLL_TARGETS}

    def table(self) -> str:
        """Real vs generated per track, the mean TD, and which targets are met."""
        lines = [f"generated ({self.n_generated} phrases) vs real ({self.n_real} phrases), "
                 "per track: real / generated",
                 f"  {'track':12s}" + "".join(f"{m:>18s}" for m in ROLL_TARGETS)]
        met = self.targets()
        for k, name in enumerate(self.track_names):
            cells = [f"{self.real[m][k]:.3f} / {self.generated[m][k]:.3f}"
                     + ("" if met[m][k] else " x") for m in ROLL_TARGETS]
            lines.append(f"  {name[:12]:12s}" + "".join(f"{c:>18s}" for c in cells))

        def mean_td(stats) -> float:
            values = [v for v in stats["TD"].values() if not np.isnan(v)]
            return float(np.mean(values)) if values else float("nan")

        lines.append(f"  TD (mean over track pairs): real {mean_td(self.real):.3f}, "
                     f"generated {mean_td(self.generated):.3f}")
        missed = [f"{m} ({ROLL_TARGETS[m]}) on {sum(not v for v in met[m])} track(s)"
                  for m in ROLL_TARGETS if not all(met[m])]
        lines.append("  targets: " + ("all met" if not missed else "missed: " + "; ".join(missed))
                     + "  (x: a missed target)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready: both statistics, the phrase counts and the targets met."""
        return {"track_names": self.track_names, "real": self.real,
                "generated": self.generated, "n_real": self.n_real,
                "n_generated": self.n_generated, "targets": self.targets()}


def compare_rolls(real, generated, *, lowest_pitch: int = 24,
                  track_names: Sequence[str] | None = None) -> RollComparison:
    """:func:`roll_statistics` of real and generated rolls side by side (cells > 0 sound).

    Binarize a model's output first the way it is decoded (e.g.
    ``MultiTrackPianoRoll.binarize``), so the figures are those of the music written.
    """
    real, generated = _on(real), _on(generated)
    if real.shape[1:] != generated.shape[1:]:
        raise ValueError(f"real rolls {real.shape[1:]} and generated {generated.shape[1:]} "
                         "differ in shape")
    names = list(track_names) if track_names is not None else \
        [f"track {k}" for k in range(real.shape[4])]
    return RollComparison(names, roll_statistics(real, lowest_pitch),
                          roll_statistics(generated, lowest_pitch), len(real), len(generated))
