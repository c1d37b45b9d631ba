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
