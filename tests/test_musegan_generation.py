"""MuseGAN pieces longer than a phrase: chained phrases, decoded without seams."""

import numpy as np
import pytest

import kerasmusic as km
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.generation.musegan import generate_rolls
from kerasmusic.models.musegan import build_generator_network

SHAPE = dict(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4, n_pitches=12)


def test_sixteen_bars_chain_eight_phrases_without_a_silent_seam():
    generator = build_generator_network(**SHAPE)
    last = generator.get_layer("bar_generator_0").layers[-3]  # the (1, 12) output layer
    for t in range(2):
        layer = generator.get_layer(f"bar_generator_{t}").layers[-3]
        layer.kernel.assign(np.zeros(layer.kernel.shape, np.float32))
        layer.bias.assign(np.ones(layer.bias.shape, np.float32))  # every cell sounds
    assert last.name.startswith("patch_conv2d_transpose")
    rolls = generate_rolls(generator, 2, n_bars=16, seed=0)
    assert rolls.shape == (2, 16, 4, 12, 2)
    enc = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=4, n_pitches=12,
                              lowest_pitch=60, monophonic=True)
    piece = enc.decode(rolls[0])
    # one voice each, held through all 16 bars: no phrase boundary breaks the note
    for track in piece.tracks:
        assert [(n.start, n.end, n.pitch) for n in track.notes] == [(0, 16, 60)]


def test_chained_phrases_are_seeded_cut_to_length_and_keep_style():
    generator = build_generator_network(**SHAPE)
    a = generate_rolls(generator, 3, n_bars=5, seed=7)
    assert a.shape == (3, 5, 4, 12, 2) and np.abs(a).max() <= 1
    np.testing.assert_array_equal(a, generate_rolls(generator, 3, n_bars=5, seed=7))
    assert not np.array_equal(a, generate_rolls(generator, 3, n_bars=5, seed=8))
    one = generate_rolls(generator, 3, seed=7)
    assert one.shape == (3, 2, 4, 12, 2)
    np.testing.assert_allclose(one, a[:, :2], atol=1e-6)  # the first phrase is the same
    walked = generate_rolls(generator, 3, n_bars=4, seed=7, continuity=0.99)
    fresh = generate_rolls(generator, 3, n_bars=4, seed=7, continuity=0.0)
    # a near-1 continuity keeps the second phrase close to the first
    assert np.abs(walked[:, 2:] - walked[:, :2]).mean() < np.abs(fresh[:, 2:] - fresh[:, :2]).mean()
    with pytest.raises(km.KerasMusicError, match="continuity"):
        generate_rolls(generator, 1, n_bars=4, continuity=1.0)


def test_accompaniment_returns_the_given_track_and_trains(tmp_path):
    import dataclasses

    import tensorflow as tf

    from kerasmusic.generation.musegan import condition_tracks_of
    from kerasmusic.training.musegan import MuseGAN, MuseGANConfig, musegan_quality

    config = MuseGANConfig(**SHAPE, critic_steps=2, condition_tracks=(0,))
    gan = MuseGAN(config, seed=0)
    assert [i.name for i in gan.generator.inputs][-1] == "condition"
    rng = np.random.default_rng(0)
    real = np.where(rng.random((8, 2, 4, 12, 2)) > 0.8, 1.0, -1.0).astype("float32")
    history = gan.fit(tf.data.Dataset.from_tensor_slices(real).batch(4), epochs=1,
                      verbose=False)
    assert int(gan.step.numpy()) == 1 and np.isfinite(history["generator_loss"][0])
    out = gan.generate(8, condition=real)
    np.testing.assert_array_equal(out[..., 0], real[..., 0])  # the given voice, unchanged
    with pytest.raises(km.KerasMusicError, match="condition"):
        gan.generate(2)
    # saved and reloaded with safe_mode, it accompanies a longer part (3 bars)
    path = tmp_path / "accompany.keras"
    gan.generator.save(path)
    loaded = km.load_model(path, compile=False)
    assert condition_tracks_of(loaded) == [0] and condition_tracks_of(gan.generator) == [0]
    part = real[0, :, :, :, :1]
    long = np.concatenate([part, part[:1]])  # 3 bars of the given track
    rolls = generate_rolls(loaded, 2, condition=long, seed=1)
    assert rolls.shape == (2, 3, 4, 12, 2)
    np.testing.assert_array_equal(rolls[0, ..., 0], long[..., 0])
    with pytest.raises(km.KerasMusicError, match="condition"):
        generate_rolls(loaded, 1)
    enc = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=4, n_pitches=12,
                              lowest_pitch=60, monophonic=True)
    report = musegan_quality(gan, enc, real, n=6)
    assert report.n_generated == 6
    plain = MuseGAN(dataclasses.replace(config, condition_tracks=()), seed=0)
    assert condition_tracks_of(plain.generator) == []
    with pytest.raises(km.KerasMusicError, match="takes no condition"):
        generate_rolls(plain.generator, 1, condition=part)


def test_octave_pitch_classes_mark_each_steps_classes_in_every_octave(tmp_path):
    from kerasmusic.models.musegan import OctavePitchClasses

    bars = np.full((1, 2, 24, 1), -1.0, np.float32)
    bars[0, 0, [0, 16], 0] = 1   # step 0: C (octave 0) and E (octave 1)
    bars[0, 1, 7, 0] = 1         # step 1: G
    out = np.asarray(OctavePitchClasses(3)(bars))
    assert out.shape == (1, 2, 3, 12)
    for octave in range(3):
        assert np.flatnonzero(out[0, 0, octave]).tolist() == [0, 4]
        assert np.flatnonzero(out[0, 1, octave]).tolist() == [7]
    generator = build_generator_network(**SHAPE, condition_tracks=[1])
    generator.save(tmp_path / "g.h5")
    back = km.load_model(tmp_path / "g.h5", compile=False)
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=(1, 4)), rng.normal(size=(1, 4)), rng.normal(size=(1, 2, 4)),
              rng.normal(size=(1, 2, 4)), np.where(rng.random((1, 2, 4, 12, 1)) > 0.7, 1., -1.)]
    np.testing.assert_allclose(back.predict(inputs, verbose=0),
                               generator.predict(inputs, verbose=0), atol=1e-6)
