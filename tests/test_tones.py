from fractions import Fraction

import numpy as np
import pytest
from builders import make_piece

from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import KerasMusicError

PIECE = make_piece([(60, 0, 1, 80), (64, 0, 1, 80), (67, 1, Fraction(1, 2), 90),
                    (65, Fraction(3, 2), Fraction(1, 2), 70), (72, 3, 2, 100)])


def test_raw_features_by_hand():
    raw = ToneEncoding().raw_cells(PIECE)
    assert raw.tolist() == [[0, 384, 60, 80], [0, 384, 64, 80], [384, 192, 67, 90],
                            [192, 192, 65, 70], [576, 768, 72, 100]]


def test_three_tones_per_cell_share_an_onset():
    raw = ToneEncoding(tones_per_cell=3).raw_cells(PIECE)
    assert raw.shape == (4, 12)
    assert raw[0].tolist() == [0, 384, 60, 80, 0, 384, 64, 80, 0, 0, 0, 0]
    assert raw[1].tolist()[:4] == [384, 192, 67, 90] and not raw[1, 4:].any()


@pytest.mark.parametrize("tones_per_cell", [1, 3])
def test_encode_decode_round_trip(tones_per_cell, tmp_path):
    enc = ToneEncoding(tones_per_cell).fit([PIECE])
    x = enc.encode(PIECE)
    assert x.dtype == np.float32 and x.shape[1] == 4 * tones_per_cell
    enc.save(tmp_path / "t.json")
    back = ToneEncoding.load(tmp_path / "t.json").decode(x)
    assert [(n.start, n.duration, n.pitch, n.velocity) for n in back.notes] == [
        (n.start, n.duration, n.pitch, n.velocity) for n in PIECE.notes]


def test_scales_keep_zero_and_bring_values_near_one():
    enc = ToneEncoding().fit([PIECE])
    x = enc.encode(PIECE)
    assert x[1, 0] == 0  # chord onset stays exactly zero
    assert 0.5 < np.abs(x[:, 2]).mean() < 1.5


def test_decode_clips_to_valid_midi():
    enc = ToneEncoding().fit([PIECE])
    wild = np.array([[-3.0, 0.5, 5.0, 9.0], [1.0, -1.0, 1.0, 1.0]], np.float32)
    piece = enc.decode(wild)
    assert len(piece.notes) == 1  # the second has a negative length
    n = piece.notes[0]
    assert n.start == 0 and n.pitch == 127 and n.velocity == 127


def test_unfitted_encoding_is_a_clear_error():
    with pytest.raises(KerasMusicError, match="fit"):
        ToneEncoding().encode(PIECE)
