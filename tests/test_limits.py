"""What a piece may claim: hostile files are refused by name, representations never
allocate what they cannot hold, and a corpus with such a file trains on the rest."""

from fractions import Fraction

import pytest
from builders import make_piece

import kerasmusic as km
from kerasmusic.cli import main
from kerasmusic.data.limits import MAX_CELLS, MAX_QUARTERS


def _hostile_midi(path, end_quarters=5.3e9, ticks_per_beat=96):
    """A valid MIDI file whose one note ends ``end_quarters`` in (as a fuzzed file did)."""
    import mido

    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=80, time=0)])
    ticks, most = round(end_quarters * ticks_per_beat), 0x0FFFFFFF  # the largest delta
    while ticks > most:
        track.append(mido.MetaMessage("marker", text="", time=most))
        ticks -= most
    track.append(mido.Message("note_off", note=60, velocity=0, time=ticks))
    mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat, tracks=[track]).save(path)


def test_the_reader_refuses_a_note_ending_billions_of_quarter_notes_in(tmp_path):
    _hostile_midi(tmp_path / "long.mid")
    with pytest.raises(km.MidiReadError, match=r"long.mid: a note ends at 5.3e\+09 quarter "
                                               r"notes: beyond the 100,000"):
        km.read_midi(tmp_path / "long.mid")
    _hostile_midi(tmp_path / "fine.mid", end_quarters=MAX_QUARTERS - 1)
    assert km.read_midi(tmp_path / "fine.mid").duration == MAX_QUARTERS - 1


def test_the_reader_refuses_an_smf_format_outside_0_to_2(tmp_path):
    km.write_midi(make_piece([(60, 0, 1)]), tmp_path / "ok.mid")
    data = bytearray((tmp_path / "ok.mid").read_bytes())
    data[8:10] = (7).to_bytes(2, "big")
    (tmp_path / "format7.mid").write_bytes(bytes(data))
    with pytest.raises(km.MidiReadError, match="format7.mid: SMF format 7"):
        km.read_midi(tmp_path / "format7.mid")


def test_representations_refuse_what_they_cannot_hold():
    """They used to raise MemoryError (6.8 TiB, 1.6 TiB) on such a piece."""
    piece = make_piece([(60, 0, 1), (62, Fraction(53, 10) * 10**9, 1)], name="huge")
    with pytest.raises(km.EncodingError, match=r"huge: its frame roll would have .* cells"):
        km.FrameEncoding().encode(piece)
    roll = km.MultiTrackPianoRoll(tracks=[0])
    with pytest.raises(km.EncodingError, match=r"huge: its piano roll would have"):
        roll.phrases(piece)
    with pytest.raises(km.EncodingError, match=r"huge: its piano roll"):
        roll.to_roll(piece)
    # Per-note representations hold such a piece in a few events.
    assert km.EventEncoding().encode(piece).shape == (4, 3)
    assert len(km.NoteDurationEncoding().to_tokens(piece)) == 3


def test_the_cell_limit_is_where_it_says(monkeypatch):
    from kerasmusic.data import limits

    assert MAX_CELLS == 2**27  # 512 MiB of float32 for one piece
    monkeypatch.setattr(limits, "MAX_CELLS", 100 * 88)
    enc = km.FrameEncoding()  # sixteenth-note frames of 88 keys
    assert enc.encode(make_piece([(60, 0, 25)])).shape == (100, 88)
    with pytest.raises(km.EncodingError, match=r"101 x 88"):
        enc.encode(make_piece([(60, 0, Fraction(101, 4))]))


def test_a_folder_with_a_hostile_file_trains_on_the_rest(tmp_path, cache_dir, capsys):
    folder = tmp_path / "midi"
    folder.mkdir()
    for i in range(3):
        km.write_midi(make_piece([(60 + (i + j) % 12, j, 1) for j in range(16)]),
                      folder / f"song{i}.mid")
    _hostile_midi(folder / "fuzzed.mid")
    model = tmp_path / "roll.keras"
    assert main(["train", "pianoroll", "--midi-dir", str(folder), "--out", str(model),
                 "--seq-len", "8", "--units", "4", "--layers", "1", "--epochs", "1"]) == 0
    assert model.exists()
    out = capsys.readouterr()
    assert "3 pieces loaded, 1 unreadable" in out.out
    assert "fuzzed.mid" in out.out + out.err
