"""Pictures of music and training: piano-roll and loss-curve PNGs (matplotlib)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

from kerasmusic.data.notes import Piece


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def pitch_ticks(low: int, high: int) -> list[tuple[int, str]]:
    """Whole MIDI numbers between ``low`` and ``high`` worth a tick, with their names.

    Every natural note on a narrow range, C and G on a wider one, only C beyond four
    octaves: ``(60, "C4"), (67, "G4"), ...``.
    """
    from kerasmusic.data.note_tokens import pitch_name

    span = high - low
    classes = (0, 2, 4, 5, 7, 9, 11) if span <= 14 else (0, 7) if span <= 48 else (0,)
    return [(p, pitch_name(p)) for p in range(math.ceil(low), math.floor(high) + 1)
            if p % 12 in classes]


def _name_pitch_axis(ax, low: float, high: float) -> None:
    ticks = pitch_ticks(math.ceil(low), math.floor(high))
    ax.set_yticks([p for p, _ in ticks], [name for _, name in ticks])


# A note's bar ends this much (in quarters, at most a tenth of the note) before the next
# note may start, so repeated notes of one pitch show as separate bars.
_NOTE_GAP = 0.06


def piano_roll_figure(piece: Piece, *, title: str | None = None):
    """The matplotlib figure :func:`plot_piano_roll` saves (closing it is the caller's)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 4), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    pitches = []
    for i, track in enumerate(piece.tracks):
        colour = colours[i % len(colours)]
        bars = [(float(n.start), float(n.duration) - min(_NOTE_GAP, float(n.duration) / 10))
                for n in track.notes]
        for n, bar in zip(track.notes, bars):
            ax.broken_barh([bar], (n.pitch - 0.4, 0.8), facecolors=colour,
                           edgecolors="black", linewidths=0.5)
            pitches.append(n.pitch)
        if track.notes:
            ax.plot([], [], color=colour, linewidth=6, label=track.name or f"track {i}")
    if pitches:
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        ax.set_xlim(0, float(piece.duration))
        _name_pitch_axis(ax, min(pitches) - 2, max(pitches) + 2)
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("pitch")
    ax.set_title(title or piece.name or "piano roll")
    if len(piece.tracks) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0,
                  fontsize="small")
    fig.tight_layout()
    return fig


def plot_piano_roll(piece: Piece, path: str | os.PathLike, *, title: str | None = None) -> None:
    """Draw ``piece`` as a piano roll (time in quarters vs pitch) and save a PNG.

    Each track gets its own colour; drums are drawn too. Every note is a bar with an
    outline that ends just before the next note can start, so repeated notes of one
    pitch stay apart; the pitch axis is labelled with note names (C4, G4, ...).
    """
    _save(piano_roll_figure(piece, title=title), path)


def loss_figure(history: Mapping[str, Sequence[float]], *, keys: Sequence[str] | None = None,
                title: str = "training"):
    """The matplotlib figure :func:`plot_losses` saves (closing it is the caller's)."""
    plt = _pyplot()
    keys = keys or [k for k in history if k.endswith("loss")]
    fig, ax = plt.subplots(figsize=(8.5, 4), dpi=100)
    for key in keys:
        values = history[key]
        ax.plot(range(1, len(values) + 1), values, marker="o", label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    # Beside the plot, never over the curves.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    fig.tight_layout()
    return fig


def plot_losses(history: Mapping[str, Sequence[float]], path: str | os.PathLike,
                *, keys: Sequence[str] | None = None, title: str = "training") -> None:
    """Plot per-epoch values from a Keras ``history`` dict (default: every key ending in loss).

    The legend stands to the right of the plot, so it never hides a curve.
    """
    _save(loss_figure(history, keys=keys, title=title), path)


def _save(fig, path: str | os.PathLike) -> None:
    fig.savefig(path, bbox_inches="tight")
    _pyplot().close(fig)


def plot_roll_grid(rolls, path: str | os.PathLike, *, track_names: Sequence[str] | None = None,
                   lowest_pitch: int = 24, title: str | None = None) -> None:
    """Draw multi-track piano rolls as a grid: a row per track, a column per bar.

    Args:
        rolls: one phrase (bars, steps, pitches, tracks) or several (n, bars, steps,
            pitches, tracks); several are drawn side by side, bar after bar. A cell
            sounds where its value is > 0.
        path: the PNG to write.
        track_names: a label per track (default "track 0", ...).
        lowest_pitch: MIDI number of pitch index 0, for the pitch axis.
        title: the figure title.
    """
    import numpy as np

    on = np.asarray(rolls) > 0
    if on.ndim == 4:
        on = on[None]
    if on.ndim != 5:
        raise ValueError(f"rolls must be (bars, steps, pitches, tracks) or (n, bars, steps, "
                         f"pitches, tracks), got shape {np.shape(rolls)}")
    n, bars, steps, pitches, tracks = on.shape
    used = np.flatnonzero(on.any(axis=(0, 1, 2, 4)))
    lo, hi = (max(0, used[0] - 2), min(pitches, used[-1] + 3)) if len(used) else (0, pitches)
    names = list(track_names or [f"track {k}" for k in range(tracks)])
    plt = _pyplot()
    columns = n * bars
    fig, axes = plt.subplots(tracks, columns, figsize=(1.6 * columns + 1, 1.4 * tracks + 0.6),
                             dpi=100, squeeze=False, sharey=True)
    for k in range(tracks):
        for c in range(columns):
            ax = axes[k, c]
            cell = on[c // bars, c % bars, :, lo:hi, k].T  # (pitches, steps)
            ax.imshow(cell, aspect="auto", origin="lower", cmap="Greys", vmin=0, vmax=1,
                      interpolation="nearest",
                      extent=(0, steps, lo + lowest_pitch - 0.5, hi + lowest_pitch - 0.5))
            ax.set_xticks([])
            if c == 0:
                ax.set_ylabel(names[k], fontsize="small")
                _name_pitch_axis(ax, lo + lowest_pitch - 0.5, hi + lowest_pitch - 0.5)
                ax.tick_params(axis="y", labelsize="x-small")
            else:
                ax.tick_params(labelleft=False)
            if k == 0:
                label = f"bar {c % bars + 1}" if n == 1 else f"#{c // bars} bar {c % bars + 1}"
                ax.set_title(label, fontsize="small")
    fig.suptitle(title or "piano rolls")
    fig.tight_layout()
    _save(fig, path)
