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


def _two_part_score(tempo_text="Lebhaft"):
    score = music21.stream.Score()
    melody, silent = music21.stream.Part(), music21.stream.Part()
    melody.partName, silent.partName = "melody", "silent"
    melody.append(music21.tempo.MetronomeMark(text=tempo_text))  # text only: no number
    first, second = music21.note.Note("C4", quarterLength=2), music21.note.Note("C4")
    first.tie, second.tie = music21.tie.Tie("start"), music21.tie.Tie("stop")
    melody.append([first, second, music21.note.Rest(), music21.note.Note("E4")])
    silent.append(music21.note.Rest(quarterLength=5))
    score.insert(0, melody)
    score.insert(0, silent)
    return score


def test_stream_input_text_tempo_empty_part_and_stream_left_unchanged():
    score = _two_part_score()
    piece = km.read_score(score)
    assert piece.tempo == 120.0  # "Lebhaft" has no number: the default
    assert [t.name for t in piece.tracks] == ["melody", "silent"]  # part numbers kept
    assert [(n.start, n.duration, n.pitch) for n in piece.tracks[0].notes] == [
        (Fraction(0), Fraction(3), 60), (Fraction(4), Fraction(1), 64)]
    assert piece.tracks[1].notes == []
    assert len(score.parts[0].flatten().notes) == 3  # the caller's ties are not merged


def test_musicxml_quantises_midi_times(tmp_path):
    F = Fraction
    piece = make_piece([(60, 0, F(479, 480)), (62, F(481, 480), F(1, 480)),  # MIDI jitter
                        (64, 2, F(1, 8)), (65, F(17, 8), F(1, 3))])  # 32nd, triplet
    km.write_musicxml(piece, tmp_path / "q.musicxml")
    back = km.read_score(tmp_path / "q.musicxml")
    assert [(n.start, n.duration, n.pitch) for n in back.notes] == [
        (F(0), F(1), 60), (F(1), F(1, 24), 62), (F(2), F(1, 8), 64), (F(17, 8), F(1, 3), 65)]


def test_missing_score_file(tmp_path):
    with pytest.raises(km.ScoreReadError, match="no such file"):
        km.read_score(tmp_path / "gone.musicxml")


def test_tempo_changes_survive_musicxml(tmp_path):
    piece = make_piece([(60, i, 1) for i in range(8)], [(48, 0, 8)], tempo=100.0)
    piece.tempo_changes = [(Fraction(4), 60.0), (Fraction(6), 80.0)]
    km.write_musicxml(piece, tmp_path / "t.musicxml")
    back = km.read_score(tmp_path / "t.musicxml")
    assert back.tempo == 100.0 and back.tempo_changes == piece.tempo_changes
