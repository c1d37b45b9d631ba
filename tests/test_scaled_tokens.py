import numpy as np
import pytest
from builders import make_piece

from kerasmusic.data.scaled_tokens import ScaledTokenEncoding
from kerasmusic.errors import KerasMusicError

PIECE = make_piece([(60, 0, 1), (64, 0, 1), (62, 2, 1), (65, 3, 1), (67, 4, 1)])


def test_values_span_minus_one_to_one_and_round_trip(tmp_path):
    enc = ScaledTokenEncoding().fit([PIECE])
    assert enc.vocabulary.tokens == ["rest", "D4", "F4", "G4", "C4.E4"]
    x = enc.encode(PIECE)
    assert x.shape == (5, 1) and x.min() == -1.0 and x.max() == 1.0  # chord, rest, 3 notes
    assert enc.decode_tokens(x) == enc.pitch_tokens(PIECE)
    enc.save(tmp_path / "e.json")
    back = ScaledTokenEncoding.load(tmp_path / "e.json")
    decoded = back.decode(x + 0.05)  # small errors snap back to the same tokens
    assert [n.pitch for n in decoded.notes] == [60, 64, 62, 65, 67]
    assert all(n.duration == back.step for n in decoded.notes)


def test_out_of_range_values_clip_to_the_ends():
    enc = ScaledTokenEncoding().fit([PIECE])
    assert enc.decode_tokens(np.array([-7.0, 9.0])) == ["rest", "C4.E4"]


def test_needs_a_fitted_vocabulary():
    with pytest.raises(KerasMusicError, match="fit"):
        ScaledTokenEncoding().encode(PIECE)
