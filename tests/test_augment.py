"""Transposition augmentation: copies in range, drums untouched, validation never shifted."""

import pytest
from builders import make_piece, make_track

import kerasmusic as km


def test_copies_stay_inside_the_representation_range_and_drums_stay():
    drums = make_track([(36, 0, 1)], is_drum=True)
    piece = make_piece([(60, 0, 1), (70, 1, 1)], drums, name="p")
    out = km.transposed_copies([piece], range(-5, 7), pitch_range=(57, 72))
    shifts = [n.pitch - 60 for p in out for n in p.tracks[0].notes[:1]]
    assert shifts == [0, -3, -2, -1, 1, 2]  # the original first, then the fitting shifts
    for p in out:
        assert all(57 <= n.pitch <= 72 for n in p.tracks[0].notes)
        assert [n.pitch for n in p.tracks[1].notes] == [36]
    assert km.transposed_copies([piece], None) == [piece]


def test_per_piece_picks_a_seeded_subset():
    pieces = [make_piece([(60, 0, 1)], name=str(i)) for i in range(4)]
    a = km.transposed_copies(pieces, km.DEFAULT_SHIFTS, per_piece=2, seed=1)
    b = km.transposed_copies(pieces, km.DEFAULT_SHIFTS, per_piece=2, seed=1)
    assert len(a) == 12 and [p.notes for p in a] == [p.notes for p in b]
    with pytest.raises(km.KerasMusicError, match="per_piece"):
        km.transposed_copies(pieces, per_piece=-1)


def test_training_transposes_training_pieces_only():
    pieces = [make_piece([(60 + (i * 5 + j) % 7, j, 1) for j in range(12)], name=f"m{i}")
              for i in range(8)]
    result = km.train_note_lstm(pieces, seq_len=4, embed_size=4, rnn_units=4, epochs=1,
                                validation_fraction=0.25, transpose=(-2, 3), verbose=0)
    assert len(result.validation_pieces) == 2
    assert all(any(v is p for p in pieces) for v in result.validation_pieces)
    assert not {v.name for v in result.validation_pieces} & {t.name for t in result.train_pieces}
    # The vocabulary comes from the transposed training pieces: it has their shifted pitches.
    train_pitches = {n.pitch for p in result.train_pieces for n in p.notes}
    for shift in (-2, 3):
        for pitch in train_pitches:
            assert km.pitch_name(pitch + shift) in result.encoding.pitch_vocabulary
    assert result.quality is not None and result.quality.data == "2 held-out pieces"


@pytest.mark.parametrize("encoding", [km.FrameEncoding(step="1/2", lowest_pitch=55,
                                                       n_pitches=20),
                                      km.EventEncoding(seq_len=4, lowest_pitch=55,
                                                       n_pitches=20)])
def test_frames_and_events_split_first_then_shift_training_pieces_in_range(encoding):
    pieces = [make_piece([(60 + (i + j) % 5, j, 1) for j in range(10)], name=f"m{i}")
              for i in range(8)]
    plain = km.split_encoded_pieces(pieces, encoding, 0.25, seed=1)
    split = km.split_encoded_pieces(pieces, encoding, 0.25, seed=1, transpose=(-5, 3, 12))
    assert encoding.pitch_range == (55, 74)
    # Validation is the same pieces as written; training gains the fitting copies only.
    assert [v.tolist() for v in split.validation] == [v.tolist() for v in plain.validation]
    assert split.augmented[:len(split.train)] == split.train
    assert len(split.augmented) == 3 * len(split.train)  # -5 and +3 fit, +12 never does
    encode = encoding.encode
    originals = {encode(p).tobytes() for p in pieces}
    for copy in split.augmented[len(split.train):]:
        assert copy.tobytes() not in originals
    assert not km.split_encoded_pieces(pieces, encoding, 0.25, seed=1,
                                       transpose=None).augmented[len(plain.train):]


def test_musegan_phrases_shift_on_the_roll_drums_stay_and_epochs_keep_their_length():
    import numpy as np

    from kerasmusic.data.augment import random_phrase_transpose
    from kerasmusic.training.musegan import musegan_dataset

    rng = np.random.default_rng(0)
    rolls = -np.ones((16, 1, 4, 12, 2), np.float32)
    for i in range(16):  # pitched notes on rows 3..8 of track 0, a drum hit on row 5
        rolls[i, 0, rng.integers(4), rng.integers(3, 9), 0] = 1
        rolls[i, 0, 0, 5, 1] = 1
    rolls[15, :, :, :, 0] = -1  # a phrase whose pitched track is silent
    out = random_phrase_transpose(rolls, range(-5, 7), [1, 2], drums=[False, True]).numpy()
    np.testing.assert_array_equal(out[..., 1], rolls[..., 1])  # the drum track stays
    seen = set()
    for before, after in zip(rolls[..., 0], out[..., 0]):
        assert (after > 0).sum() == (before > 0).sum()  # no note falls off the roll
        shift = next(s for s in range(-5, 7) if np.array_equal(
            np.roll(before, s, axis=-1), after))
        seen.add(shift)
    assert len(seen) > 3  # phrases get different shifts
    again = random_phrase_transpose(rolls, range(-5, 7), [1, 2], drums=[False, True]).numpy()
    np.testing.assert_array_equal(out, again)  # the seed fixes the shifts
    ds = musegan_dataset(rolls, batch_size=4, seed=3, transpose=km.DEFAULT_SHIFTS)
    first, second = (np.concatenate(list(ds.as_numpy_iterator())) for _ in range(2))
    assert len(first) == 16 and not np.array_equal(first, second)  # new shifts each epoch
    third = np.concatenate(list(musegan_dataset(rolls, batch_size=4, seed=3,
                                                transpose=km.DEFAULT_SHIFTS).as_numpy_iterator()))
    np.testing.assert_array_equal(first, third)  # and the same run again gives the same


def test_crnngan_crops_come_from_transposed_copies_too_and_epochs_keep_their_length():
    import numpy as np

    from kerasmusic.data.augment import copies_only
    from kerasmusic.data.tone_pipeline import tone_dataset
    from kerasmusic.data.tones import FEATURES, ToneEncoding

    notes = [km.Note(km.data.notes.to_fraction(i / 2), km.data.notes.to_fraction(1 / 2),
                     60 + i % 3) for i in range(64)]
    pieces = [km.Piece([km.Track(notes)], name="p")]
    enc = ToneEncoding().fit(km.transposed_copies(pieces, km.DEFAULT_SHIFTS))
    pitch = FEATURES.index("pitch")

    def pitches(ds):
        values = np.concatenate(list(ds.as_numpy_iterator()))[..., pitch].ravel()
        return {round(float(v)) for v in values * enc.scales[pitch]}

    plain = tone_dataset(pieces, enc, seq_len=8, batch_size=4, seed=0)
    shifted = tone_dataset(pieces, enc, seq_len=8, batch_size=4, seed=0,
                           copies=copies_only(pieces, km.DEFAULT_SHIFTS))
    assert len(list(plain)) == len(list(shifted)) == 2  # 64 cells / (8 x 4)
    assert pitches(plain) == {60, 61, 62}
    assert len(pitches(shifted) - {60, 61, 62}) > 3 and pitches(shifted) <= set(range(55, 69))
