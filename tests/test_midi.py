from fractions import Fraction

import pytest
from builders import make_piece, make_track

import kerasmusic as km


def _notes(piece):
    return [[(n.start, n.duration, n.pitch, n.velocity) for n in t.notes] for t in piece.tracks]


def test_write_then_read_gives_the_same_notes(tmp_path):
    melody = make_track([(60, 0, 1, 90), (64, 0, 1, 90), (67, Fraction(3, 2), Fraction(1, 4)),
                         (72, Fraction(7, 4), Fraction(1, 4), 70), (71, 4, 2)],  # gap = rest
                        name="piano", program=0)
    bass = make_track([(36, 0, 4, 60)], name="bass", program=33)
    drums = make_track([(36, 0, Fraction(1, 2), 100), (38, 1, Fraction(1, 2), 100)],
                       name="drums", is_drum=True)
    piece = make_piece(melody, bass, drums, tempo=96.0, time_signature=(3, 4))
    km.write_midi(piece, tmp_path / "a.mid")
    back = km.read_midi(tmp_path / "a.mid")
    assert _notes(back) == _notes(piece)
    assert [(t.name, t.program, t.is_drum) for t in back.tracks] == [
        ("piano", 0, False), ("bass", 33, False), ("drums", 0, True)]
    assert back.tempo == pytest.approx(96.0) and back.time_signature == (3, 4)
    assert all(isinstance(n.start, Fraction) for n in back.notes)


def test_not_a_midi_file(tmp_path):
    path = tmp_path / "notes.mid"
    path.write_text("this is a shopping list, not music")
    with pytest.raises(km.MidiReadError, match="notes.mid.*not a readable MIDI"):
        km.read_midi(path)


def test_truncated_midi(tmp_path):
    km.write_midi(make_piece([(60 + i % 12, i, 1) for i in range(50)]), tmp_path / "full.mid")
    data = (tmp_path / "full.mid").read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[: len(data) // 2])
    with pytest.raises(km.MidiReadError, match="cut.mid") as info:
        km.read_midi(tmp_path / "cut.mid")
    # mido's EOFError says nothing: the reason must ("EOFError: )" before).
    assert info.value.reason.endswith("(EOFError: the file ends early: truncated)")


def test_empty_midi(tmp_path):
    km.write_midi(make_piece([]), tmp_path / "empty.mid")
    with pytest.raises(km.EmptyMidiError, match="empty.mid.*no notes"):
        km.read_midi(tmp_path / "empty.mid")


def test_drums_only(tmp_path):
    drums = make_track([(36, 0, 1), (38, 1, 1)], is_drum=True)
    km.write_midi(make_piece(drums), tmp_path / "drums.mid")
    with pytest.raises(km.NoPitchedNotesError, match="drums.mid.*only drum notes"):
        km.read_midi(tmp_path / "drums.mid")
    piece = km.read_midi(tmp_path / "drums.mid", require_pitched=False)
    assert piece.tracks[0].is_drum and len(piece.tracks[0].notes) == 2
    assert piece.notes == []  # .notes is pitched notes only


def test_missing_file(tmp_path):
    with pytest.raises(km.MidiReadError, match="no such file"):
        km.read_midi(tmp_path / "nothing.mid")


def test_errors_are_keras_music_errors_with_the_path(tmp_path):
    path = tmp_path / "x.mid"
    path.write_bytes(b"MThd\x00\x00")
    with pytest.raises(km.KerasMusicError) as info:
        km.read_midi(path)
    assert info.value.path == str(path)


def test_tempo_changes_survive_a_round_trip(tmp_path):
    piece = make_piece([(60, 0, 1), (62, 4, 1)], tempo=120.0)
    piece.tempo_changes = [(Fraction(2), 60.0), (Fraction(7, 2), 90.0)]
    km.write_midi(piece, tmp_path / "t.mid")
    back = km.read_midi(tmp_path / "t.mid")
    assert back.tempo == pytest.approx(120.0)
    assert [(t, round(q, 3)) for t, q in back.tempo_changes] == [(Fraction(2), 60.0),
                                                                 (Fraction(7, 2), 90.0)]
    assert km.Piece.from_dict(back.to_dict()).tempo_changes == back.tempo_changes


def test_times_on_the_tick_grid_come_back_as_the_same_fractions(tmp_path):
    F = Fraction
    piece = make_piece([(60, F(1, 3), F(1, 3)), (62, F(2, 3), F(1, 6)), (64, F(7, 480), F(1, 480)),
                        (65, F(5, 4), F(3, 8))])
    km.write_midi(piece, tmp_path / "grid.mid", ticks_per_beat=480)
    assert _notes(km.read_midi(tmp_path / "grid.mid")) == _notes(piece)


def _bad_key_signature(path):
    """A real MIDI file whose key signature claims 20 sharps (mido: KeySignatureError)."""
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("key_signature", key="C"),
                            mido.Message("note_on", note=60, velocity=80, time=0),
                            mido.Message("note_off", note=60, velocity=0, time=480)])
    mid.tracks.append(track)
    mid.save(path)
    data = bytearray(path.read_bytes())
    data[data.find(b"\xff\x59\x02") + 3] = 20
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make, error", [
    (lambda p: p.write_text("MThd? no, a shopping list"), km.MidiReadError),
    (lambda p: p.write_bytes(b""), km.MidiReadError),
    (_bad_key_signature, km.MidiReadError),
    (lambda p: km.write_midi(make_piece([]), p), km.EmptyMidiError),
    (lambda p: km.write_midi(make_piece(make_track([(36, 0, 1)], is_drum=True)), p),
     km.NoPitchedNotesError),
])
def test_every_bad_input_names_the_file(tmp_path, make, error):
    path = tmp_path / "bad input.mid"
    make(path)
    with pytest.raises(error) as info:
        km.read_midi(path)
    assert type(info.value) is error
    assert str(path) in str(info.value) and info.value.path == str(path)


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nowhere" / "x.mid"
    with pytest.raises(km.MidiReadError) as info:
        km.read_midi(path)
    assert str(path) in str(info.value)


def test_silent_tracks_keep_their_place(tmp_path):
    """A silent part is written and read back in place: track numbers do not shift."""
    piece = make_piece(make_track([(72, 0, 1)], name="S", program=52),
                       make_track([], name="A", program=52),
                       make_track([(36, 0, 1)], name="Kit", is_drum=True),
                       make_track([], name="Perc", is_drum=True),
                       make_track([(48, 0, 2)], name="B", program=33))
    km.write_midi(piece, tmp_path / "gaps.mid")
    back = km.read_midi(tmp_path / "gaps.mid")
    assert [(t.name, t.program, t.is_drum, len(t.notes)) for t in back.tracks] == [
        ("S", 52, False, 1), ("A", 52, False, 0), ("Kit", 0, True, 1), ("Perc", 0, True, 0),
        ("B", 33, False, 1)]


def test_writing_to_a_folder_or_a_missing_folder_is_a_clear_error(tmp_path):
    piece = make_piece([(60, 0, 1)])
    with pytest.raises(km.KerasMusicError, match="is a folder"):
        km.write_midi(piece, tmp_path)
    with pytest.raises(km.KerasMusicError, match="does not exist"):
        km.write_midi(piece, tmp_path / "nowhere" / "out.mid")
