"""Pictures a user reads: piano rolls and loss curves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from builders import make_piece  # noqa: E402

from kerasmusic.plotting import (  # noqa: E402
    loss_figure,
    piano_roll_figure,
    pitch_ticks,
    plot_losses,
    plot_piano_roll,
    plot_roll_grid,
)


def _bars(ax) -> list[tuple[float, float]]:
    """(start, end) in quarters of every note bar drawn on ``ax``."""
    spans = []
    for collection in ax.collections:
        for path in collection.get_paths():
            xs = path.vertices[:, 0]
            spans.append((float(xs.min()), float(xs.max())))
    return sorted(spans)


def test_repeated_notes_of_one_pitch_are_separate_bars():
    piece = make_piece([(60, 0, 1), (60, 1, 1), (60, 2, 2), (64, 4, 1)])
    fig = piano_roll_figure(piece)
    try:
        bars = _bars(fig.axes[0])
        assert len(bars) == 4
        for (_, end), (start, _) in zip(bars, bars[1:]):
            assert end < start  # a gap: the second C4 does not merge into the first
        assert all(c.get_linewidth()[0] > 0 for c in fig.axes[0].collections)  # outlines
    finally:
        plt.close(fig)


def test_pitch_axis_has_note_names_at_whole_pitches():
    piece = make_piece([(55, 0, 1), (60, 1, 1), (79, 2, 1)])
    fig = piano_roll_figure(piece)
    try:
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert "C4" in labels and "G4" in labels and "C5" in labels
        assert all(float(t).is_integer() for t in ax.get_yticks())
    finally:
        plt.close(fig)
    assert pitch_ticks(60, 64) == [(60, "C4"), (62, "D4"), (64, "E4")]
    assert [name for _, name in pitch_ticks(24, 100)] == ["C1", "C2", "C3", "C4", "C5", "C6",
                                                          "C7"]


def test_loss_legend_stands_beside_the_curves():
    history = {"loss": [3.0, 2.0, 1.5, 1.4], "val_loss": [3.1, 2.2, 1.9, 2.0]}
    fig = loss_figure(history, title="t")
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 >= ax.get_window_extent().x1  # never over the plotting area
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "val_loss"]
    finally:
        plt.close(fig)


def test_pngs_are_written(tmp_path):
    import numpy as np

    plot_piano_roll(make_piece([(60, 0, 1)], [(48, 0, 2)]), tmp_path / "roll.png")
    plot_losses({"loss": [1.0, 0.5]}, tmp_path / "loss.png")
    plot_roll_grid(np.ones((2, 4, 12, 2)), tmp_path / "grid.png", lowest_pitch=60)
    assert all((tmp_path / name).stat().st_size > 0 for name in ("roll.png", "loss.png",
                                                                 "grid.png"))
