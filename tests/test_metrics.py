import math

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


def test_repetitions_of_three_note_patterns():
    # pitches: 60 62 64 60 62 64 60 -> grams (60,62,64) (62,64,60) (64,60,62) (60,62,64)*
    # (62,64,60)*  -> 2 repeats
    piece = make_piece([(p, i, 1) for i, p in enumerate([60, 62, 64, 60, 62, 64, 60])])
    assert metrics.repetitions(piece) == 2
    assert metrics.repetitions(piece, length=2) == 3  # (60,62)(62,64)(64,60), then all 3 again
    assert metrics.repetitions(make_piece([(60, 0, 1), (62, 1, 1)])) == 0


def test_empty_pieces_and_averages():
    empty = make_piece([])
    assert math.isnan(metrics.polyphony(empty)) and metrics.tone_span(empty) == 0
    stats = metrics.music_statistics([_piece(), make_piece([(60, 0, 1), (72, 1, 1)]), empty])
    assert stats["tone_span"] == (7 + 12 + 0) / 3
    assert stats["polyphony"] == (3 / 5 + 0) / 2  # the empty piece has no ratio
    table = metrics.format_table({"real": stats})
    assert "scale_consistency" in table.splitlines()[0] and table.splitlines()[1].startswith("real")
