"""symusic's reader (read_midi) gives exactly the pieces and errors of miditoolkit's."""

import itertools
import random
from fractions import Fraction

import numpy as np
import pytest
from builders import make_piece, make_track
from fuzzing import mutate_file, read_outcome, seed_bytes
from midi_files import random_midi

import kerasmusic as km
from kerasmusic.data import midi, midi_layout
from kerasmusic.data.midi_miditoolkit import read_midi_miditoolkit


@pytest.fixture
def slow_reads(monkeypatch):
    """The paths read_midi handed to miditoolkit's reader."""
    paths = []

    def counted(path, **kwargs):
        paths.append(path)
        return read_midi_miditoolkit(path, **kwargs)

    monkeypatch.setattr(midi, "read_midi_miditoolkit", counted)
    return paths


def test_the_chorales_read_the_same(tmp_path, slow_reads):
    pieces = km.load_corpus("chorales", progress=False).pieces
    for i, piece in enumerate(pieces):
        km.write_midi(piece, tmp_path / f"{i}.mid")
        new, old = (read_outcome(read, tmp_path / f"{i}.mid") for read in (km.read_midi,
                                                                        read_midi_miditoolkit))
        assert new == old, piece.name
    assert len(pieces) == 350 and not slow_reads  # all read by symusic


def test_the_test_files_read_the_same(tmp_path, slow_reads):
    """The kinds of file tests/test_midi.py writes: drums, silent parts, tempo changes,
    a triplet grid, no notes, drums only."""
    F = Fraction
    pieces = {
        "band": make_piece(make_track([(60, 0, 1, 90), (67, F(3, 2), F(1, 4))], name="piano"),
                           make_track([(36, 0, 4, 60)], name="bass", program=33),
                           make_track([(36, 0, F(1, 2), 100)], name="drums", is_drum=True),
                           tempo=96.0, time_signature=(3, 4)),
        "gaps": make_piece(make_track([(72, 0, 1)], name="S", program=52),
                           make_track([], name="A", program=52),
                           make_track([(36, 0, 1)], name="Kit", is_drum=True),
                           make_track([], name="Perc", is_drum=True),
                           make_track([(48, 0, 2)], name="B", program=33)),
        "grid": make_piece([(60, F(1, 3), F(1, 3)), (64, F(7, 480), F(1, 480))]),
        "empty": make_piece([]),
        "drums": make_piece(make_track([(36, 0, 1)], is_drum=True)),
    }
    pieces["band"].tempo_changes = [(F(2), 60.0), (F(7, 2), 90.0)]
    for name, piece in pieces.items():
        km.write_midi(piece, tmp_path / f"{name}.mid")
        new, old = (read_outcome(read, tmp_path / f"{name}.mid") for read in (km.read_midi,
                                                                           read_midi_miditoolkit))
        assert new == old, name
    assert not slow_reads


def test_notes_of_zero_length_are_dropped_the_same(tmp_path):
    import mido

    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=80),
                            mido.Message("note_off", note=60),  # at the same tick
                            mido.Message("note_on", note=62, velocity=80),
                            mido.Message("note_off", note=62, time=480)])
    mido.MidiFile(tracks=[track]).save(tmp_path / "zero.mid")
    new = read_outcome(km.read_midi, tmp_path / "zero.mid")
    assert new == read_outcome(read_midi_miditoolkit, tmp_path / "zero.mid")
    assert new[2] == ["1 note of zero length dropped"] and len(new[1].notes) == 1


@pytest.mark.parametrize("plain", [True, False])
def test_random_files_read_the_same(tmp_path, slow_reads, plain):
    """Format 0 and 1 files with several channels a track; the plain ones mostly read
    by symusic, the others (program changes between notes, notes left sounding...)
    mostly by miditoolkit."""
    for seed in range(150):
        path = tmp_path / f"{seed}.mid"
        random_midi(path, seed, plain)
        assert read_outcome(km.read_midi, path) == read_outcome(read_midi_miditoolkit, path), seed
    fast = 150 - len(slow_reads)
    assert fast > 100 if plain else 0 < fast < 50


def test_damaged_files_fail_or_read_the_same(tmp_path, slow_reads):
    rng, seed = random.Random(1), seed_bytes("mid")
    for i in range(300):
        path = tmp_path / f"{i}.mid"
        path.write_bytes(mutate_file("mid", seed, rng))
        assert read_outcome(km.read_midi, path) == read_outcome(read_midi_miditoolkit, path), i
    assert len(slow_reads) < 300


def test_events_after_an_end_of_track_read_the_same(tmp_path):
    """mido reads on after an end of track inside a chunk; symusic stops there."""
    import mido

    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=80),
                            mido.Message("note_off", note=60, time=10)])
    mido.MidiFile(tracks=[track]).save(tmp_path / "one.mid")
    data = (tmp_path / "one.mid").read_bytes()
    start = data.find(b"MTrk") + 8
    body = data[start:] + b"\x00\x90\x40\x50\x10\x80\x40\x00\x00\xff\x2f\x00"  # after its EOT
    path = tmp_path / "two.mid"
    path.write_bytes(data[:start - 4] + len(body).to_bytes(4, "big") + body)
    new = read_outcome(km.read_midi, path)
    assert new == read_outcome(read_midi_miditoolkit, path) and len(new[1].notes) == 2


@pytest.mark.parametrize("n_instruments", [4, 12])  # sorted one by one; in one sort
@pytest.mark.parametrize("latest", [900, 2**40])  # one int64 key; too wide for one
def test_notes_are_put_in_note_order(latest, n_instruments):
    """Each instrument's notes come back in Note's order (start, duration, pitch,
    velocity), the instruments staying in turn."""
    rng = np.random.default_rng(latest + n_instruments)
    sizes = rng.choice([0, 1, 5, 40], n_instruments).tolist()
    n = sum(sizes)
    start, duration = rng.integers(0, 4, n) * latest // 4, rng.integers(1, 3, n) * 3
    pitch, velocity = rng.choice([0, 60, 61, 127], n), rng.choice([1, 90, 127], n)
    word = pitch * 256 + velocity
    got = midi._in_note_order(start.copy(), duration.copy(), word, sizes, latest)
    owner = np.repeat(np.arange(n_instruments), sizes)
    order = np.lexsort((velocity, pitch, duration, start, owner))
    for column, expected in zip(got, (start, duration, pitch, velocity)):
        assert column.tolist() == expected[order].tolist()


@pytest.mark.parametrize("event", [b"\x90\x3c\x85", b"\x90\x85\x40", b"\x80\x3c\x85"])
def test_a_data_byte_over_127_is_refused_as_miditoolkit_refuses_it(tmp_path, event, slow_reads):
    """symusic refuses it (the reader relies on its pitches and velocities being
    0..127), so miditoolkit's reader says what is wrong."""
    path = tmp_path / "bad.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x0c"
                     + b"\x00" + event + b"\x10\x80\x3c\x00\x00\xff\x2f\x00")
    with pytest.raises(km.MidiReadError, match="bad.mid"):
        km.read_midi(path)
    assert slow_reads == [str(path)]


def test_a_chunk_without_notes_is_walked_as_mido_reads_it(tmp_path):
    """A tempo map (no note-on in it) is read in Python, not parsed by symusic: its
    tempos and time signatures at the ticks mido gives them."""
    import mido

    track = mido.MidiTrack([
        mido.MetaMessage("track_name", name="tempo map", time=0),
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.MetaMessage("time_signature", numerator=3, denominator=8, time=0),
        mido.Message("control_change", control=7, value=100, time=5),
        mido.MetaMessage("set_tempo", tempo=400_000, time=17_000),  # a delta of 3 bytes
        mido.MetaMessage("key_signature", key="Eb", time=7),
        mido.MetaMessage("time_signature", numerator=6, denominator=4, time=300),
    ])
    path = tmp_path / "map.mid"
    mido.MidiFile(tracks=[track], ticks_per_beat=96).save(path)
    chunk = midi_layout.split_chunks(path.read_bytes()).chunks[0]
    assert midi_layout.starts_no_note(midi_layout.statuses(chunk))
    walk = midi_layout.read_prelude(chunk, to_end=True)
    ticks = list(itertools.accumulate(m.time for m in mido.MidiFile(path).tracks[0]))
    messages = list(zip(ticks, mido.MidiFile(path).tracks[0]))
    assert walk.tempos == [(t, m.tempo) for t, m in messages if m.type == "set_tempo"]
    assert walk.signatures == [(t, m.numerator, m.denominator) for t, m in messages
                               if m.type == "time_signature"]
    assert walk.names == ["tempo map"] and not walk.sounding
