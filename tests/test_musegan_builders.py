import keras
import numpy as np
import pytest

import kerasmusic as km
from kerasmusic.models.musegan import (
    build_bar_generator,
    build_critic,
    build_generator_network,
    build_temporal_network,
)

Z = 32


def test_seed_shapes():
    temporal = build_temporal_network(Z, 2)
    assert temporal.output.shape[1:] == (2, Z)
    bar = build_bar_generator(Z, 16, 84)
    assert bar.output.shape[1:] == (1, 16, 84, 1)
    critic = build_critic((2, 16, 84, 4), n_bars=2)
    assert critic.output.shape[1:] == (1,)
    out = critic.predict(np.zeros((3, 2, 16, 84, 4), "float32"), verbose=0)
    assert out.shape == (3, 1)


def test_full_generator_shape_and_range():
    gen = build_generator_network(z_dim=8, n_tracks=4, n_bars=2)
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(2, 8)), rng.normal(size=(2, 8)), rng.normal(size=(2, 4, 8)),
              rng.normal(size=(2, 4, 8))]
    rolls = gen.predict(inputs, verbose=0)
    assert rolls.shape == (2, 2, 16, 84, 4) and np.abs(rolls).max() <= 1


def test_every_track_and_bar_gets_its_own_slice():
    """The late-binding lambda bug makes every slice read the last index: not here."""
    gen = build_generator_network(z_dim=8, n_tracks=3, n_bars=3)
    rng = np.random.default_rng(1)
    base = [rng.normal(size=(1, 8)), rng.normal(size=(1, 8)), rng.normal(size=(1, 3, 8)),
            rng.normal(size=(1, 3, 8))]
    reference = gen.predict(base, verbose=0)
    for t in range(3):
        groove = base[3].copy()
        groove[0, t] += 5.0  # change only track t's groove
        changed = np.abs(gen.predict(base[:3] + [groove], verbose=0) - reference)
        per_track = changed.max(axis=(0, 1, 2, 3))
        assert per_track[t] > 1e-3 and np.delete(per_track, t).max() == 0
    for b in range(3):  # each bar reads its own slice of the chord vectors
        assert not np.allclose(reference[0, b], reference[0, (b + 1) % 3])


def test_unsupported_shapes_say_which_are_supported():
    with pytest.raises(km.KerasMusicError, match="n_steps_per_bar must be 4, 8, 16"):
        build_bar_generator(Z, 12, 84)
    with pytest.raises(km.KerasMusicError, match="multiple of 12"):
        build_bar_generator(Z, 16, 80)
    with pytest.raises(km.KerasMusicError, match="2 or more bars"):
        build_temporal_network(Z, 1)
    with pytest.raises(km.KerasMusicError, match="n_bars >= 2"):
        build_critic((1, 16, 84, 4))


def test_generator_and_critic_round_trip_with_safe_mode(tmp_path):
    gen = build_generator_network(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4,
                                  n_pitches=12)
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=(1, 4)), rng.normal(size=(1, 4)), rng.normal(size=(1, 2, 4)),
              rng.normal(size=(1, 2, 4))]
    for name in ("g.keras", "g.h5"):
        gen.save(tmp_path / name)
        back = km.load_model(tmp_path / name, compile=False)
        np.testing.assert_array_equal(back.predict(inputs, verbose=0),
                                      gen.predict(inputs, verbose=0))


def test_generator_exports_a_savedmodel_for_serving(tmp_path):
    import tensorflow as tf

    from kerasmusic.data.pianoroll import MultiTrackPianoRoll

    gen = build_generator_network(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4,
                                  n_pitches=12)
    enc = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=4, n_pitches=12)
    km.save_model(gen, tmp_path / "served", enc)
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=s).astype("float32") for s in [(2, 4), (2, 4), (2, 2, 4),
                                                             (2, 2, 4)]]
    served = tf.saved_model.load(str(tmp_path / "served"))
    np.testing.assert_allclose(served.serve(inputs).numpy(), gen.predict(inputs, verbose=0),
                               atol=1e-5)
    assert km.load_encoding(tmp_path / "served").shape == enc.shape
    with pytest.raises(km.KerasMusicError, match="shape"):
        km.save_model(gen, tmp_path / "g.keras", MultiTrackPianoRoll(tracks=[0, 1]))


def test_jamming_and_composer_modes():
    rng = np.random.default_rng(4)
    shared = [rng.normal(size=(2, 4)), rng.normal(size=(2, 4))]
    per_track = [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))]
    # Jamming: each track's generator hears only its own vectors.
    jam = build_generator_network(z_dim=4, n_tracks=3, n_bars=2, n_steps_per_bar=4,
                                  n_pitches=12, mode="jamming")
    assert [i.name for i in jam.inputs] == ["melody", "groove"]
    reference = jam.predict(per_track, verbose=0)
    assert reference.shape == (2, 2, 4, 12, 3)
    melody = per_track[0].copy()
    melody[:, 1] += 5.0
    changed = np.abs(jam.predict([melody, per_track[1]], verbose=0) - reference).max(
        axis=(0, 1, 2, 3))
    assert changed[1] > 0 and changed[0] == 0 and changed[2] == 0
    # Composer: one generator makes every track from the shared vectors only.
    comp = build_generator_network(z_dim=4, n_tracks=3, n_bars=2, n_steps_per_bar=4,
                                   n_pitches=12, mode="composer")
    assert [i.name for i in comp.inputs] == ["chords", "style"]
    assert comp.predict(shared, verbose=0).shape == (2, 2, 4, 12, 3)
    bar_generators = [layer for layer in comp.layers if layer.name.startswith("bar_generator")]
    assert len(bar_generators) == 1 and bar_generators[0].output.shape[-1] == 3
    hybrid = build_generator_network(z_dim=4, n_tracks=3, n_bars=2, n_steps_per_bar=4,
                                     n_pitches=12)
    assert comp.count_params() < hybrid.count_params()
    with pytest.raises(km.KerasMusicError, match="mode must be one of"):
        build_generator_network(mode="solo")


@pytest.mark.parametrize("kernel, strides, padding, shape", [
    ((1, 1, 12), (1, 1, 12), "same", (2, 16, 84, 4)),   # the critic's pitch layers
    ((2, 1, 1), (1, 1, 1), "valid", (2, 16, 84, 4)),    # the kernel spans the bars
    ((1, 2, 1), (1, 2, 1), "same", (1, 16, 7, 6)),
    ((1, 4, 1), (1, 2, 1), "same", (1, 4, 1, 6)),       # overlapping: Keras' own path
])
def test_patch_conv3d_equals_conv3d(kernel, strides, padding, shape):
    import keras

    from kerasmusic.models.patch_conv import PatchConv3D

    x = np.random.default_rng(0).normal(size=(3, *shape)).astype("float32")
    plain = keras.layers.Conv3D(5, kernel, strides=strides, padding=padding,
                                bias_initializer="random_normal")
    patch = PatchConv3D(5, kernel, strides=strides, padding=padding)
    plain.build(x.shape)
    patch.build(x.shape)
    patch.set_weights(plain.get_weights())
    np.testing.assert_allclose(patch(x), plain(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel, padding, shape", [
    ((2, 1), "same", (2, 1, 8)), ((1, 7), "same", (16, 1, 8)), ((1, 12), "same", (16, 7, 8)),
    ((2, 3), "valid", (3, 2, 4)),
])
def test_patch_conv2d_transpose_equals_conv2d_transpose(kernel, padding, shape):
    import keras

    from kerasmusic.models.patch_conv import PatchConv2DTranspose

    x = np.random.default_rng(1).normal(size=(3, *shape)).astype("float32")
    plain = keras.layers.Conv2DTranspose(5, kernel, strides=kernel, padding=padding,
                                         bias_initializer="random_normal", activation="relu")
    patch = PatchConv2DTranspose(5, kernel, strides=kernel, padding=padding, activation="relu")
    plain.build(x.shape)
    patch.build(x.shape)
    patch.set_weights(plain.get_weights())
    np.testing.assert_allclose(patch(x), plain(x), rtol=1e-5, atol=1e-5)


def test_patch_convs_keep_the_seed_models_parameters_and_outputs():
    rng = np.random.default_rng(5)
    inputs = [rng.normal(size=(2, 8)), rng.normal(size=(2, 8)), rng.normal(size=(2, 4, 8)),
              rng.normal(size=(2, 4, 8))]
    fast = build_generator_network(z_dim=8)
    plain = build_generator_network(z_dim=8, patch_convs=False)
    assert fast.count_params() == plain.count_params()
    plain.set_weights(fast.get_weights())
    rolls = fast.predict(inputs, verbose=0)
    np.testing.assert_allclose(rolls, plain.predict(inputs, verbose=0), atol=1e-5)
    fast_critic, plain_critic = build_critic((2, 16, 84, 4)), build_critic(
        (2, 16, 84, 4), patch_convs=False)
    assert fast_critic.count_params() == plain_critic.count_params()
    plain_critic.set_weights(fast_critic.get_weights())
    np.testing.assert_allclose(fast_critic.predict(rolls, verbose=0),
                               plain_critic.predict(rolls, verbose=0), rtol=1e-4, atol=1e-6)


def test_note_onsets_count_each_note_once_across_bars():
    # one track, 2 bars x 4 steps, 3 pitches; -1 silent, 1 sounding
    roll = -np.ones((1, 2, 4, 3, 1), "float32")
    roll[0, 0, 0:3, 0] = 1   # pitch 0 for 3 steps
    roll[0, 0, 3, 1] = 1     # moves to pitch 1 (legato: one onset)
    roll[0, 1, 0:2, 1] = 1   # held across the bar line: no onset
    roll[0, 1, 3, 2] = 1     # after a rest step
    onsets = km.NoteOnsets()(roll).numpy()
    assert onsets.shape == (1, 2, 4, 1, 1)
    np.testing.assert_allclose(onsets[0, :, :, 0, 0], [[1, 0, 0, 1], [0, 0, 0, 1]])
    half = np.where(roll > 0, 0.0, -1.0).astype("float32")  # loudness 0.5 where sounding
    np.testing.assert_allclose(km.NoteOnsets()(half).numpy()[0, :, :, 0, 0],
                               [[0.5, 0, 0, 0.5], [0, 0, 0, 0.5]])


def test_critic_onset_stream_reads_onsets_and_loads_safely(tmp_path):
    critic = build_critic((2, 16, 48, 4), onset_stream=True)
    plain = build_critic((2, 16, 48, 4))
    assert critic.count_params() > plain.count_params()
    rng = np.random.default_rng(5)
    rolls = np.where(rng.random((3, 2, 16, 48, 4)) < 0.05, 1.0, -1.0).astype("float32")
    critic.save(tmp_path / "c.keras")
    back = km.load_model(tmp_path / "c.keras", compile=False)
    np.testing.assert_allclose(back.predict(rolls, verbose=0), critic.predict(rolls, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # What the critic's onset stream reads: one onset per voice for a note held through
    # both bars; one a step when the same voices alternate between two pitches.
    held = -np.ones((1, 2, 16, 48, 4), "float32")
    held[0, :, :, 24, :] = 1
    cut = held.copy()
    cut[0, :, 1::2, 24, :] = -1
    cut[0, :, 1::2, 25, :] = 1
    stream_input = keras.Model(critic.input, critic.get_layer("note_onsets").output)
    onsets = stream_input.predict(np.concatenate([held, cut]), verbose=0)
    assert onsets[0].sum() == 4 and onsets[1].sum() == 4 * 32
