from fractions import Fraction

import music21
import pytest
from builders import make_piece

import kerasmusic as km

ABC = """X:1
T:test tune
M:4/4
L:1/4
K:C
C D E2- | E z G/2A/2 B | c4 |]
"""


def test_bundled_chorale_has_four_voices():
    piece = km.read_score(music21.corpus.getWork("bwv66.6"))
    assert [t.name for t in piece.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    pitches = [n.pitch for n in piece.notes]
    assert 36 <= min(pitches) and max(pitches) <= 84
    assert all(isinstance(n.start, Fraction) for n in piece.notes)
    assert piece.time_signature == (4, 4)


def test_abc_with_tie_and_rest_reads_exactly(tmp_path):
    path = tmp_path / "tune.abc"
    path.write_text(ABC)
    piece = km.read_score(path)
    got = [(n.start, n.duration, n.pitch) for n in piece.notes]
    F = Fraction
    assert got == [(F(0), F(1), 60), (F(1), F(1), 62), (F(2), F(3), 64),  # tie merged
                   (F(6), F(1, 2), 67), (F(13, 2), F(1, 2), 69), (F(7), F(1), 71),  # after rest
                   (F(8), F(4), 72)]


def test_garbage_score_names_the_file(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<score-partwise><part>not closed")
    with pytest.raises(km.ScoreReadError, match="broken.xml"):
        km.read_score(path)


def test_musicxml_round_trip(tmp_path):
    piece = make_piece([(60, 0, 1), (64, 0, 1), (62, 1, Fraction(1, 2)), (65, 2, 2)])
    km.write_musicxml(piece, tmp_path / "p.musicxml")
    back = km.read_score(tmp_path / "p.musicxml")
    assert [(n.start, n.duration, n.pitch) for n in back.notes] == [
        (n.start, n.duration, n.pitch) for n in piece.notes]
