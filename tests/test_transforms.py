import pytest
from builders import make_piece, make_track

import kerasmusic as km


def test_transpose_moves_pitched_notes_only():
    piece = make_piece([(60, 0, 1), (64, 1, 1)], make_track([(36, 0, 1)], is_drum=True))
    up = km.transpose(piece, 3)
    assert [n.pitch for n in up.tracks[0].notes] == [63, 67]
    assert up.tracks[1].notes[0].pitch == 36
    assert [n.pitch for n in piece.tracks[0].notes] == [60, 64]  # the original is untouched
    with pytest.raises(km.KerasMusicError, match="pitch range"):
        km.transpose(make_piece([(120, 0, 1)]), 12)


def test_key_shift_finds_the_white_keys():
    d_major = make_piece([(p, i, 1) for i, p in enumerate([62, 64, 66, 67, 69, 71, 73, 74])])
    assert km.key_shift(d_major) == -2
    assert {n.pitch % 12 for n in km.normalize_key(d_major).notes} <= {0, 2, 4, 5, 7, 9, 11}
    c_major = make_piece([(p, i, 1) for i, p in enumerate([60, 62, 64, 65, 67])])
    assert km.key_shift(c_major) == 0
