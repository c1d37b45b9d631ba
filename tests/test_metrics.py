import math
import random

import pytest
from builders import make_piece

from kerasmusic import metrics


def _piece():
    # C4 E4 G4 chord at 0, then D4 at 1, E4 at 2 with velocities 60..100.
    return make_piece([(60, 0, 1, 60), (64, 0, 1, 70), (67, 0, 1, 80), (62, 1, 1, 90),
                       (64, 2, 1, 100)])


def test_span_unique_and_intensity_by_hand():
    piece = _piece()
    assert metrics.tone_span(piece) == 7          # 67 - 60
    assert metrics.unique_tones(piece) == 4       # 60 62 64 67
    assert metrics.intensity_span(piece) == 40    # 100 - 60


def test_polyphony_counts_notes_sharing_an_onset():
    assert metrics.polyphony(_piece()) == 3 / 5   # the three chord notes
    assert metrics.polyphony(make_piece([(60, 0, 1), (62, 1, 1)])) == 0.0


def test_scale_consistency_best_scale_mod_12():
    assert metrics.scale_consistency(_piece()) == 1.0  # all in C major
    # C, C#, D, E: at most 3 of 4 fit any one major / minor scale.
    chromatic = make_piece([(60, 0, 1), (61, 1, 1), (62, 2, 1), (76, 3, 1)])
    assert metrics.scale_consistency(chromatic) == 0.75
    # Octaves do not matter: pitch is taken mod 12.
    assert metrics.scale_consistency(make_piece([(61, 0, 1), (73, 1, 1), (85, 2, 1)])) == 1.0


def _melody(pitches):
    return make_piece([(p, i, 1) for i, p in enumerate(pitches)])


def _c_rnn_gan_repetitions(tones):
    # midi_statistics.repetitions of olofmogren/c-rnn-gan, as written there.
    rs = {}
    for l in range(2, min(len(tones) // 2, 10)):  # noqa: E741
        rs[l] = 0
        for i in range(len(tones) - l * 2):
            for j in range(i + l, len(tones) - l):
                if tones[i:i + l] == tones[j:j + l]:
                    rs[l] += 1
    return rs


def test_repetitions_count_pairs_of_places_by_hand():
    # C D E C D E C D E G: pitches 60 62 64 60 62 64 60 62 64 67, n = 10, length 3.
    # Windows compared start at 0..6 (j < n - 3; the last one, D E G at 7, never is):
    #   0 CDE  1 DEC  2 ECD  3 CDE  4 DEC  5 ECD  6 CDE
    # Pairs i < j with j - i >= 3 and the same notes:
    #   CDE at 0, 3, 6 -> (0,3) (0,6) (3,6)    3
    #   DEC at 1, 4    -> (1,4)                1
    #   ECD at 2, 5    -> (2,5)                1   total 5.
    # Counting places whose window occurred before (the old count) gives 3, 4, 5, 6: 4.
    # A sequence at k places adds k (k - 1) / 2 pairs, not k - 1.
    melody = [60, 62, 64, 60, 62, 64, 60, 62, 64, 67]
    assert metrics.repetitions(_melody(melody)) == 5
    assert _c_rnn_gan_repetitions(melody)[3] == 5
    # Without the G the last CDE (at 6) is the last window, never compared: (0,3) (1,4)
    # (2,5) = 3, where counting every window gives 5 and the old count 4.
    assert metrics.repetitions(_melody(melody[:-1])) == 3
    # length 2 on C C C C C C: windows 0..3 are all C C; overlapping ones do not count,
    # so (0,2) (0,3) (1,3) = 3.
    assert metrics.repetitions(_melody([60] * 6), length=2) == 3
    # Fewer than 2 * length + 2 notes: 0, as the paper's code skips the length (its
    # loops alone would find (0,3) in 7 notes). 8 notes: windows 0..4, (0,3) (0,4) (1,4).
    assert metrics.repetitions(_melody([60] * 7)) == 0
    assert metrics.repetitions(_melody([60] * 8)) == 3


def test_repetitions_match_the_paper_code():
    rng = random.Random(0)
    for _ in range(300):
        tones = [60 + rng.randrange(rng.randrange(1, 5)) for _ in range(rng.randrange(30))]
        expected = _c_rnn_gan_repetitions(tones)
        for length in range(2, 10):
            assert metrics.repetitions(_melody(tones), length) == expected.get(length, 0)
    # A chord's notes are read low to high at their onset, one sequence for all voices.
    chords = make_piece([(60, 0, 1), (64, 1, 1), (60, 2, 1), (64, 3, 1)],
                        [(55, 0, 1), (55, 1, 1), (55, 2, 1), (55, 3, 1)])
    # 55 60 55 64 55 60 55 64, windows 0..5: 55 60 at (0,4), 60 55 at (1,5); 55 64 at 2
    # and 6, but 6 is the last window.
    assert metrics.repetitions(chords, length=2) == _c_rnn_gan_repetitions(
        [55, 60, 55, 64, 55, 60, 55, 64])[2] == 2
    with pytest.raises(ValueError):
        metrics.repetitions(chords, length=0)


def test_empty_pieces_and_averages():
    empty = make_piece([])
    assert math.isnan(metrics.polyphony(empty)) and metrics.tone_span(empty) == 0
    stats = metrics.music_statistics([_piece(), make_piece([(60, 0, 1), (72, 1, 1)]), empty])
    assert stats["tone_span"] == (7 + 12 + 0) / 3
    assert stats["polyphony"] == (3 / 5 + 0) / 2  # the empty piece has no ratio
    table = metrics.format_table({"real": stats})
    assert "scale_consistency" in table.splitlines()[0] and table.splitlines()[1].startswith("real")
