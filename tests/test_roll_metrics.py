import numpy as np
import pytest

from kerasmusic import roll_metrics as rm

LOW = 24  # pitch index 0 is MIDI 24 (a C)


def _roll(n_bars=2, steps=8, pitches=24, tracks=2):
    return -np.ones((n_bars, steps, pitches, tracks), np.float32)


def test_empty_bars_and_used_pitch_classes_by_hand():
    roll = _roll()
    roll[0, 0:4, 0, 0] = 1   # track 0, bar 0: C
    roll[0, 4:8, 12, 0] = 1  # ... and C an octave up: still one pitch class
    roll[0, 0:2, 7, 0] = 1   # ... and G: 2 classes in bar 0; bar 1 empty
    roll[:, :, 4, 1] = 1     # track 1: E in both bars
    np.testing.assert_array_equal(rm.empty_bars(roll), [0.5, 0.0])
    np.testing.assert_array_equal(rm.used_pitch_classes(roll, LOW), [2.0, 1.0])


def test_qualified_notes_and_polyphony_by_hand():
    roll = _roll(tracks=1)
    roll[0, 0:3, 0, 0] = 1   # 3 steps: qualified
    roll[0, 5:6, 2, 0] = 1   # 1 step: not
    roll[0, 6:8, 4, 0] = 1   # runs on into bar 1 ...
    roll[1, 0:2, 4, 0] = 1   # ... 4 steps in all: qualified
    roll[0, 0:1, 9, 0] = 1   # 1 step, sounding together with the first note
    assert rm.qualified_notes(roll)[0] == pytest.approx(2 / 4)
    # sounding steps: bar0 0,1,2,5,6,7 + bar1 0,1 = 8; with >= 2 pitches: step 0 only
    assert rm.polyphony(roll)[0] == pytest.approx(1 / 8)


def test_drum_pattern_on_the_eighth_grid():
    roll = _roll(n_bars=1, tracks=1)
    for step in (0, 2, 4, 7):  # four separate hits, 3 of them on even steps
        roll[0, step, 0, 0] = 1
    assert rm.drum_pattern(roll, track=0) == pytest.approx(0.75)


def test_tonal_distance_by_hand():
    roll = _roll(n_bars=1, steps=4, tracks=2)
    roll[0, :, 0, 0] = 1   # C
    roll[0, :, 7, 1] = 1   # G
    c, g = np.zeros(12), np.zeros(12)
    c[0], g[7] = 1, 1
    phi = lambda pc: np.array([np.sin(pc * 7 * np.pi / 6), np.cos(pc * 7 * np.pi / 6),  # noqa
                               np.sin(pc * 3 * np.pi / 2), np.cos(pc * 3 * np.pi / 2),
                               0.5 * np.sin(pc * 2 * np.pi / 3), 0.5 * np.cos(pc * 2 * np.pi / 3)])
    expected = np.linalg.norm(phi(0) - phi(7))
    assert rm.tonal_distance(roll, 0, 1, LOW, steps_per_beat=4) == pytest.approx(expected)
    same = roll.copy()
    same[..., 1] = same[..., 0]
    assert rm.tonal_distance(same, 0, 1, LOW, steps_per_beat=4) == 0.0


def test_statistics_of_silence_and_shapes():
    stats = rm.roll_statistics(_roll()[None], LOW)
    assert stats["EB"] == [1.0, 1.0] and np.isnan(stats["UPC"][0])
    assert list(stats["TD"]) == ["0-1"]
    with pytest.raises(ValueError, match="rolls must be"):
        rm.empty_bars(np.zeros((3, 3)))


def test_roll_summary_averages_tracks_and_pairs():
    rolls = -np.ones((1, 2, 4, 24, 3))
    rolls[0, 0, :, 0, 0] = 1                 # track 0: C held through bar 1
    rolls[0, :, :2, 7, 1] = 1                # track 1: G, two steps in each bar
    summary = rm.roll_summary(rolls, lowest_pitch=48, drum_track=None)
    # EB per track: 1/2, 0, 1 (silent) -> 1/2; UPC: 1, 1, NaN -> 1; QN (>= 3 steps): 1, 0.
    assert summary["EB"] == 0.5 and summary["UPC"] == 1.0 and summary["QN"] == 0.5
    assert summary["polyphony"] == 0.0 and "DP" not in summary
    # TD: only the 0-1 pair sounds together (beat 1, steps 0-3 with steps_per_beat 4).
    assert summary["TD"] == rm.tonal_distance(rolls, 0, 1, lowest_pitch=48)
    assert not np.isnan(summary["TD"])


def test_compare_rolls_checks_each_target_per_track():
    real = np.full((2, 1, 8, 12, 2), -1.0)
    real[:, 0, 0:4, 0, :] = 1          # one 4-step note per voice and phrase: QN 1
    gen = real.copy()
    gen[0, 0, 0:4, 0, 1] = -1
    gen[0, 0, 0:2, 5, 1] = 1           # voice 1: two short notes, one with a second pitch
    gen[0, 0, 2:4, 7, 1] = 1
    gen[0, 0, 0:2, 9, 1] = 1
    gen[0, 0, 4:6, 11, 1] = 1          # 4 pitch classes in that bar: mean UPC 2.5 vs 1
    report = rm.compare_rolls(real, gen, lowest_pitch=60, track_names=["S", "B"])
    met = report.targets()
    assert met["QN"] == [True, False] and met["polyphony"] == [True, False]
    assert met["EB"] == [True, True] and met["UPC"] == [True, False]
    table = report.table()
    assert "S" in table and "missed: QN" in table and report.to_dict()["n_generated"] == 2
    assert "all met" in rm.compare_rolls(real, real).table()
