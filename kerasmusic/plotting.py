"""Pictures of music and training: piano-roll and loss-curve PNGs (matplotlib)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from kerasmusic.data.notes import Piece


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_piano_roll(piece: Piece, path: str | os.PathLike, *, title: str | None = None) -> None:
    """Draw ``piece`` as a piano roll (time in quarters vs pitch) and save a PNG.

    Each track gets its own colour; drums are drawn too.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 4), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    pitches = []
    for i, track in enumerate(piece.tracks):
        colour = colours[i % len(colours)]
        for n in track.notes:
            ax.broken_barh([(float(n.start), float(n.duration))], (n.pitch - 0.4, 0.8),
                           facecolors=colour)
            pitches.append(n.pitch)
        if track.notes:
            ax.plot([], [], color=colour, linewidth=6, label=track.name or f"track {i}")
    if pitches:
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        ax.set_xlim(0, float(piece.duration))
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title or piece.name or "piano roll")
    if len(piece.tracks) > 1:
        ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_losses(history: Mapping[str, Sequence[float]], path: str | os.PathLike,
                *, keys: Sequence[str] | None = None, title: str = "training") -> None:
    """Plot per-epoch values from a Keras ``history`` dict (default: every key ending in loss)."""
    plt = _pyplot()
    keys = keys or [k for k in history if k.endswith("loss")]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key in keys:
        values = history[key]
        ax.plot(range(1, len(values) + 1), values, marker="o", label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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
            else:
                ax.tick_params(labelleft=False)
            if k == 0:
                label = f"bar {c % bars + 1}" if n == 1 else f"#{c // bars} bar {c % bars + 1}"
                ax.set_title(label, fontsize="small")
    fig.suptitle(title or "piano rolls")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
