from fractions import Fraction

import music21
import numpy as np
import pytest
from builders import make_piece, make_track

import kerasmusic as km
from kerasmusic.data.pianoroll import MultiTrackPianoRoll


def _two_tracks():
    top = make_track([(72, 0, 1), (74, 1, Fraction(1, 2)), (76, 2, 2)])        # a rest at 3/2
    low = make_track([(48, 0, 4), (43, 4, 4)])
    return make_piece(top, low)


def test_phrase_shape_values_and_silence():
    enc = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=16, n_pitches=84)
    phrases = enc.phrases(_two_tracks())
    assert phrases.shape == (1, 2, 16, 84, 2)
    assert set(np.unique(phrases)) == {-1.0, 1.0}
    top = phrases[0, ..., 0].reshape(32, 84)
    assert (top[6:8] == -1).all()  # the rest: every pitch off, no made-up pitch
    assert top[0, 72 - 24] == 1 and top[4, 74 - 24] == 1 and top[8, 76 - 24] == 1


def test_every_bar_starts_a_phrase():
    piece = make_piece([(60 + i % 5, i, 1) for i in range(16)])  # 4 bars of 4/4
    enc = MultiTrackPianoRoll(tracks=[0], n_bars=2)
    assert len(enc.phrases(piece)) == 3  # bars 0-1, 1-2, 2-3
    assert len(MultiTrackPianoRoll(tracks=[0], n_bars=2, hop_bars=2).phrases(piece)) == 2


def test_encode_decode_gives_the_notes_back(tmp_path):
    enc = MultiTrackPianoRoll(tracks=[0, 1], programs=[73, 32])
    piece = _two_tracks()
    decoded = enc.decode(enc.phrases(piece)[0])
    for original, back in zip(piece.tracks, decoded.tracks):
        assert [(n.start, n.duration, n.pitch) for n in back.notes] == [
            (n.start, n.duration, n.pitch) for n in original.notes]
    assert [t.program for t in decoded.tracks] == [73, 32]
    km.write_midi(decoded, tmp_path / "p.mid")
    assert len(km.read_midi(tmp_path / "p.mid").notes) == 5


def test_chorale_round_trip_at_sixteenth_resolution():
    chorale = km.read_score(music21.corpus.getWork("bwv66.6"))
    enc = MultiTrackPianoRoll(hop_bars=2)
    phrases = enc.phrases(chorale)
    assert len(phrases) >= 4
    roll = enc.to_roll(chorale)
    for i, phrase in enumerate(phrases[:3]):
        again = enc.to_roll(enc.decode(phrase))
        expected = roll[i * 32:(i + 1) * 32]
        assert np.array_equal(again[:32], expected)


def test_missing_track_and_bad_shapes():
    with pytest.raises(km.KerasMusicError, match="track 3"):
        MultiTrackPianoRoll(tracks=[0, 3]).phrases(_two_tracks())
    with pytest.raises(km.KerasMusicError, match="shape"):
        MultiTrackPianoRoll().decode(np.zeros((2, 16, 84, 3)))
    with pytest.raises(km.KerasMusicError, match="MIDI range"):
        MultiTrackPianoRoll(lowest_pitch=100)


def _band(tmp_path):
    """A MIDI file with two guitars, a bass, a piano named 'Keys' and drums."""
    piece = make_piece(
        make_track([(64, 0, 2)], name="Lead", program=27),
        make_track([(36, 0, 1), (38, 1, 1), (36, 2, 1), (38, 3, 1)], name="Kit", is_drum=True),
        make_track([(40, 0, 4)], name="Bass", program=33),
        make_track([(67, 2, 2)], name="Rhythm", program=29),
        make_track([(60, 0, 4), (64, 0, 4)], name="Keys", program=0),
    )
    path = tmp_path / "band.mid"
    km.write_midi(piece, path)
    return km.read_midi(path)


def test_tracks_chosen_by_program_name_and_drum_flag(tmp_path):
    band = _band(tmp_path)
    enc = MultiTrackPianoRoll(tracks=["drums", "program:32-39", "program:24-31", "name:keys"],
                              n_bars=1)
    roll = enc.to_roll(band)
    sounding = [sorted({int(p) + 24 for p in np.flatnonzero(roll[:, :, k].any(axis=0))})
                for k in range(4)]
    # Both guitars merge into the guitar track; drums keep their note numbers.
    assert sounding == [[36, 38], [40], [64, 67], [60, 64]]
    assert enc.programs == [0, 32, 24, 0] and enc.drums == [True, False, False, False]
    decoded = enc.decode(enc.phrases(band)[0])
    assert decoded.tracks[0].is_drum and decoded.tracks[1].program == 32
    assert [t.name for t in decoded.tracks] == ["drums", "program:32-39", "program:24-31",
                                                "name:keys"]
    again = MultiTrackPianoRoll.from_config(enc.get_config())
    assert again.get_config() == enc.get_config()


def test_missing_tracks_skip_or_stay_silent(tmp_path):
    band = _band(tmp_path)
    strict = MultiTrackPianoRoll(tracks=["program:40-47", "drums"], n_bars=1)
    assert not strict.has_tracks(band)
    with pytest.raises(km.KerasMusicError, match="no track matches 'program:40-47'.*Bass"):
        strict.to_roll(band)
    lenient = MultiTrackPianoRoll(tracks=["program:40-47", "drums"], n_bars=1, missing="silent")
    phrase = lenient.phrases(band)[0]
    assert (phrase[..., 0] == -1).all() and (phrase[..., 1] == 1).any()
    for bad in ("program:200", "program:x", "violin", "name:"):
        with pytest.raises(km.KerasMusicError, match="bad track selector"):
            MultiTrackPianoRoll(tracks=[bad])


def test_silence_at_the_end_of_the_last_bar_keeps_the_phrase():
    # Two bars of 4/4 whose second bar is silent after its first beat.
    piece = make_piece([(60, 0, 4), (62, 4, 1)])
    enc = MultiTrackPianoRoll(tracks=[0], n_bars=2)
    assert enc.to_roll(piece).shape == (32, 84, 1)
    phrase = enc.phrases(piece)
    assert len(phrase) == 1 and (phrase[0, 1, 4:] == -1).all()


def test_monophonic_binarize_keeps_one_pitch_per_step_and_voice():
    enc = MultiTrackPianoRoll(tracks=[0, "drums"], n_bars=1, n_steps_per_bar=4,
                              n_pitches=12, lowest_pitch=60, monophonic=True)
    out = np.full(enc.shape, -1.0, np.float32)
    out[0, 0, [0, 4, 7], 0] = [0.2, 0.9, 0.5]   # a chord in the voice: E4 is the strongest
    out[0, 1, [2, 3], 0] = [0.4, 0.4]           # a tie: the lower pitch
    out[0, 2, [5, 9], 1] = [0.3, 0.6]           # drums keep every hit
    out[0, 3, 11, 0] = -0.1                     # nothing above 0: silence
    on = enc.binarize(out) > 0
    assert np.flatnonzero(on[0, 0, :, 0]).tolist() == [4]
    assert np.flatnonzero(on[0, 1, :, 0]).tolist() == [2]
    assert np.flatnonzero(on[0, 2, :, 1]).tolist() == [5, 9]
    assert not on[0, 3].any()
    assert [n.pitch for n in sorted(enc.decode(out).tracks[0].notes)] == [64, 62]
    poly = MultiTrackPianoRoll.from_config({**enc.get_config(), "monophonic": False})
    assert (poly.binarize(out) > 0).sum() == 7
    old = {k: v for k, v in enc.get_config().items() if k != "monophonic"}
    assert MultiTrackPianoRoll.from_config(old).monophonic is False
