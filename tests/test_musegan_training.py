import dataclasses

import keras
import miditoolkit
import numpy as np
import pytest
import tensorflow as tf
from builders import run_on_two_cpus

import kerasmusic as km
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.training.musegan import (
    MuseGAN,
    MuseGANConfig,
    gradient_penalty,
    musegan_dataset,
)

TINY = MuseGANConfig(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4, n_pitches=12,
                     critic_steps=2)


def test_gradient_penalty_equals_a_hand_computation():
    critic = keras.Sequential([keras.Input((2, 3)), keras.layers.Flatten(),
                               keras.layers.Dense(1)])
    w = np.arange(1, 7, dtype="float32").reshape(6, 1) / 10
    critic.layers[-1].set_weights([w, np.zeros(1, "float32")])
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3, 2, 3)), rng.normal(size=(3, 2, 3))
    alpha = rng.random((3, 1, 1))
    gp = gradient_penalty(critic, tf.constant(real, tf.float32), tf.constant(fake, tf.float32),
                          tf.constant(alpha, tf.float32)).numpy()
    # A linear critic's gradient is its weights wherever it is taken.
    np.testing.assert_allclose(gp, [(np.linalg.norm(w) - 1) ** 2] * 3, rtol=1e-5)


def _batches(n=4, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    rolls = np.where(rng.random((n * batch, 2, 4, 12, 2)) > 0.8, 1.0, -1.0).astype("float32")
    return tf.data.Dataset.from_tensor_slices(rolls).batch(batch, drop_remainder=True)


def test_steps_run_and_checkpoint_resume(tmp_path):
    gan = MuseGAN(TINY, seed=0)
    history = gan.fit(_batches(), epochs=1, checkpoint_dir=tmp_path, verbose=False)
    assert int(gan.step.numpy()) == 2 and all(np.isfinite(v[0]) for v in history.values())
    resumed = MuseGAN(TINY, seed=5)
    # Nothing left to train; the history of the whole run comes back.
    assert resumed.fit(_batches(), epochs=1, checkpoint_dir=tmp_path,
                       verbose=False) == history
    assert int(resumed.step.numpy()) == 2
    for a, b in zip(gan.generator.weights + gan.critic.weights + gan.c_optimizer.variables,
                    resumed.generator.weights + resumed.critic.weights
                    + resumed.c_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    samples = resumed.generate(3, seed=1)
    assert samples.shape == (3, 2, 4, 12, 2) and np.abs(samples).max() <= 1
    _a_kill_between_checkpoint_and_history_loses_no_epoch(gan, tmp_path, history)


def _a_kill_between_checkpoint_and_history_loses_no_epoch(gan, directory, history):
    """Each epoch writes a checkpoint and history.json; killed right after the first of
    epoch 2's two writes, the resumed run still returns every epoch's history. (Part of
    the test above: its model has traced its steps already.)"""
    import kerasmusic.training.musegan as musegan_module

    writes = []

    def killed_after_the_first(write):
        def wrapper(*args, **kwargs):
            result = write(*args, **kwargs)
            writes.append(write.__name__)
            if len(writes) == 1:
                raise KeyboardInterrupt("killed")
            return result
        return wrapper

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tf.train.CheckpointManager, "save",
                      killed_after_the_first(tf.train.CheckpointManager.save))
        patch.setattr(musegan_module, "write_json_atomic",
                      killed_after_the_first(musegan_module.write_json_atomic))
        with pytest.raises(KeyboardInterrupt):
            gan.fit(_batches(), epochs=3, checkpoint_dir=directory, verbose=False)
    whole = gan.fit(_batches(), epochs=3, checkpoint_dir=directory, verbose=False)
    assert {len(v) for v in whole.values()} == {3}
    assert all(whole[key][0] == history[key][0] for key in history)


@pytest.mark.slow
def test_distributed_step_equals_single_device_step_and_fit_runs_mixed():
    script = """
        import numpy as np, tensorflow as tf
        from kerasmusic.training.musegan import MuseGAN, MuseGANConfig
        cfg = MuseGANConfig(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4, n_pitches=12)
        rng = np.random.default_rng(0)
        real = np.where(rng.random((4, 2, 4, 12, 2)) > 0.8, 1.0, -1.0).astype("float32")
        out = {}
        # One MirroredStrategy per process: two would share collective instance keys.
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        for name, strategy in [("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                               ("two", mirrored)]:
            gan = MuseGAN(cfg, strategy=strategy, seed=1)
            data = tf.data.Dataset.from_tensors(real)
            critic_batch, noise = next(iter(gan.distribute(data)))
            losses = gan.critic_step(critic_batch) + (gan.generator_step(noise),)
            out[name] = (losses, [w.numpy() for w in gan.generator.trainable_weights
                                  + gan.critic.weights])
        np.testing.assert_allclose(out["one"][0], out["two"][0], rtol=1e-4, atol=1e-5)
        # Adam moves every weight by about its learning rate (1e-3) on the first step;
        # 1e-4 leaves room for summation-order noise on near-zero gradients only.
        for a, b in zip(out["one"][1], out["two"][1]):
            np.testing.assert_allclose(a, b, atol=1e-4)
        print("EQUAL")
        # fit under the strategy, with mixed precision (float16 compute, loss scaling).
        import dataclasses, tempfile
        mixed = dataclasses.replace(cfg, critic_steps=2, mixed_precision=True)
        gan = MuseGAN(mixed, strategy=mirrored)
        data = tf.data.Dataset.from_tensor_slices(np.concatenate([real] * 4)).batch(4)
        history = gan.fit(data, epochs=2, checkpoint_dir=tempfile.mkdtemp(), verbose=False)
        assert all(np.isfinite(v).all() for v in history.values()), history
        assert gan.generator.compute_dtype == "float16" and int(gan.step.numpy()) == 4
        assert gan.generate(2).dtype == np.float32
        print("MIXED")
    """
    assert "MIXED" in run_on_two_cpus(script)


@pytest.mark.slow
def test_short_run_on_chorales_moves_the_wasserstein_estimate(cache_dir):
    pieces = km.load_corpus("chorales", limit=6, workers=1, progress=False).pieces
    enc = MultiTrackPianoRoll()
    ds = musegan_dataset(pieces, enc, batch_size=8, seed=0).take(6)
    gan = MuseGAN(MuseGANConfig(critic_steps=3, learning_rate=1e-3), seed=0)
    history = gan.fit(ds, epochs=2, verbose=False)
    w = history["wasserstein"]
    assert all(np.isfinite(w)) and abs(w[-1] - w[0]) > 1e-3, history
    phrase = gan.generate(1)[0]
    piece = enc.decode(phrase)
    assert len(piece.tracks) == 4


def test_dataset_needs_enough_phrases():
    from builders import make_piece

    with pytest.raises(km.KerasMusicError, match="fewer than one batch"):
        musegan_dataset([make_piece([(60, 0, 8)])], MultiTrackPianoRoll(tracks=[0]),
                        batch_size=4)


def test_train_musegan_writes_samples_and_tensorboard_scalars(tmp_path):
    from builders import make_piece

    pieces = [make_piece([(60 + (i + j) % 12, j, 1) for j in range(12)],
                         [(48 + (i * j) % 12, j, 2) for j in range(0, 12, 2)], name=f"p{i}")
              for i in range(4)]
    enc = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=4, n_pitches=24,
                              lowest_pitch=48, programs=[73, 32])
    result = km.train_musegan(pieces, enc, epochs=2, batch_size=8,
                              config=MuseGANConfig(z_dim=4, critic_steps=2),
                              sample_dir=tmp_path / "samples", sample_every=2,
                              log_dir=tmp_path / "logs", verbose=False)
    assert result.phrases.shape == (4 * 11, 2, 4, 24, 2)  # every bar starts a phrase
    assert len(result.history["wasserstein"]) == 2
    written = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert written == ["epoch_002.png", "epoch_002_0.mid", "epoch_002_1.mid"]
    midi = miditoolkit.MidiFile(tmp_path / "samples" / "epoch_002_0.mid")
    assert [i.program for i in midi.instruments] == [73, 32]
    events = list((tmp_path / "logs").glob("events.out.tfevents.*"))
    assert events
    tags = {v.tag for e in tf.compat.v1.train.summary_iterator(str(events[0]))
            for v in e.summary.value}
    assert {"critic_loss", "generator_loss", "gradient_penalty", "wasserstein"} <= tags


def test_short_epochs_still_train_the_generator_in_turn():
    gan = MuseGAN(TINY, seed=0)  # 2 critic steps per generator step
    history = gan.fit(_batches(n=1), epochs=4, verbose=False)
    assert int(gan.critic_step_count.numpy()) == 4 and int(gan.step.numpy()) == 2
    assert np.isnan(history["generator_loss"][0]) and np.isfinite(history["generator_loss"][1])


@pytest.mark.parametrize("mode", ["jamming", "composer"])
def test_other_modes_train(mode):
    gan = MuseGAN(dataclasses.replace(TINY, mode=mode), seed=0)
    history = gan.fit(_batches(n=2), epochs=1, verbose=False)
    assert int(gan.step.numpy()) == 1 and np.isfinite(history["generator_loss"][0])
    assert gan.generate(2).shape == (2, 2, 4, 12, 2)


def test_nan_loss_stops_at_its_step_and_keeps_the_last_good_checkpoint(tmp_path):
    gan = MuseGAN(TINY, seed=0)
    gan.fit(_batches(n=2), epochs=1, checkpoint_dir=tmp_path, verbose=False)
    poisoned = _batches(n=2).map(lambda x: x * np.float32("nan"))
    again = MuseGAN(TINY, seed=0)
    with pytest.raises(km.NonFiniteLossError,
                       match=r"critic loss = nan.* at critic step 3 \(epoch 2\).*ckpt-1"):
        again.fit(poisoned, epochs=2, checkpoint_dir=tmp_path, verbose=False)
    assert sorted(p.name for p in tmp_path.glob("ckpt-*.index")) == ["ckpt-1.index"]
    restored = MuseGAN(TINY, seed=3)
    restored.checkpoint_manager(tmp_path).checkpoint.restore(str(tmp_path / "ckpt-1"))
    assert all(np.isfinite(w.numpy()).all() for w in restored.critic.weights)


def _weights(gan):
    return [w.numpy() for w in gan.generator.weights + gan.critic.weights]


def test_patch_conv_step_equals_the_keras_conv_step():
    fast = MuseGAN(TINY, seed=0)
    plain = MuseGAN(dataclasses.replace(TINY, patch_convs=False), seed=0)
    plain.generator.set_weights(fast.generator.get_weights())
    plain.critic.set_weights(fast.critic.get_weights())
    logs = []
    for gan in (fast, plain):
        batches = iter(gan.distribute(_batches(n=2)))
        critic_batch, noise = next(batches)
        logs.append((*gan.critic_step(critic_batch), gan.generator_step(noise)))
    np.testing.assert_allclose(logs[0], logs[1], rtol=1e-4, atol=1e-5)
    for a, b in zip(_weights(fast), _weights(plain)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_several_steps_per_call_equal_steps_one_by_one():
    together, single = MuseGAN(TINY, seed=0), MuseGAN(TINY, seed=0)
    out = together.train_steps(iter(together.distribute(_batches(n=5))), 4)
    assert (out["critic_steps"], out["generator_steps"], out["bad_step"]) == (4, 2, 0)
    critic_logs, generator_logs = [], []
    for critic_batch, noise in list(single.distribute(_batches(n=5)))[:4]:
        critic_logs.append(single.critic_step(critic_batch))
        if int(single.critic_step_count.numpy()) % TINY.critic_steps == 0:
            generator_logs.append(single.generator_step(noise))
    np.testing.assert_allclose(out["critic"], np.sum(critic_logs, axis=0), rtol=1e-5)
    np.testing.assert_allclose(out["generator"], sum(generator_logs), rtol=1e-5)
    for a, b in zip(_weights(together), _weights(single)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the iterator's end stops a call early: one batch left of five
    rest = together.train_steps(iter(together.distribute(_batches(n=1))), 4)
    assert rest["critic_steps"] == 1 and int(together.critic_step_count.numpy()) == 5


def test_a_spent_time_budget_starts_no_epoch():
    gan = MuseGAN(TINY, seed=0)
    history = gan.fit(_batches(), epochs=3, verbose=False, max_seconds=0)
    assert history["critic_loss"] == [] and int(gan.epoch.numpy()) == 0
    with pytest.raises(km.KerasMusicError, match="max_steps"):
        gan.train_steps(iter(gan.distribute(_batches())), 0)


def test_bad_settings_are_refused_before_any_work():
    with pytest.raises(km.InvalidArgumentError, match="critic_steps must be at least 1"):
        MuseGANConfig(critic_steps=0)
    with pytest.raises(km.InvalidArgumentError, match="beta_2"):
        MuseGANConfig(beta_2=1.0)
    with pytest.raises(km.InvalidArgumentError, match="epochs must be at least 1"):
        km.train_musegan([], epochs=-1)


def test_onset_stream_critic_trains():
    gan = MuseGAN(dataclasses.replace(TINY, onset_stream=True), seed=0)
    assert "note_onsets" in [layer.name for layer in gan.critic.layers]
    history = gan.fit(_batches(), epochs=1, verbose=False)
    assert int(gan.step.numpy()) == 2 and all(np.isfinite(v[0]) for v in history.values())
