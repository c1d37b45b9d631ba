
import numpy as np
import pytest
import tensorflow as tf
from builders import run_on_two_cpus

import kerasmusic as km
from kerasmusic.data.tone_pipeline import tone_dataset
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.models.crnngan_recurrent import (
    build_recurrent_discriminator,
    build_recurrent_generator,
    teacher_forced_generator,
)
from kerasmusic.training.crnngan import (
    CRNNGAN,
    CRNNGANConfig,
    feature_matching_loss,
    freeze_decision,
)

TINY = CRNNGANConfig(units=8, l2=1e-4)


@pytest.mark.parametrize("length", [1, 7, 33])
def test_recurrent_shapes_for_any_length(length):
    gen = build_recurrent_generator(4, units=6)
    noise = np.random.default_rng(0).random((2, length, 4)).astype("float32")
    tones = gen.predict(noise, verbose=0)
    assert tones.shape == (2, length, 4)
    decision, features = build_recurrent_discriminator(4, units=5).predict(tones, verbose=0)
    assert decision.shape == (2, 1) and features.shape == (2, length, 10)
    assert ((decision > 0) & (decision < 1)).all()


def test_generator_feeds_back_its_own_output():
    gen = build_recurrent_generator(4, units=6)
    teacher = teacher_forced_generator(gen)
    noise = np.random.default_rng(1).random((1, 5, 4)).astype("float32")
    free = gen.predict(noise, verbose=0)
    previous = np.concatenate([np.zeros((1, 1, 4), "float32"), free[:, :-1]], axis=1)
    np.testing.assert_allclose(teacher.predict([noise, previous], verbose=0), free, atol=1e-5)
    other = teacher.predict([noise, previous + 1], verbose=0)
    assert not np.allclose(other[:, 1:], free[:, 1:])  # the previous tone really matters


def test_feature_matching_is_zero_for_identical_batches():
    f = tf.random.normal((3, 5, 7))
    assert float(feature_matching_loss(f, f)) == 0.0
    assert float(feature_matching_loss(f, f + 1.0)) == pytest.approx(7.0)


def test_freezing_rule_freezes_the_winning_side():
    assert freeze_decision(0.5, 1.0, 0.7) == (True, False)   # D far ahead: stop D
    assert freeze_decision(1.0, 0.5, 0.7) == (False, True)   # G far ahead: stop G
    assert freeze_decision(0.9, 1.0, 0.7) == (False, False)
    assert freeze_decision(0.1, 1.0, None) == (False, False)
    assert freeze_decision(np.nan, 1.0, 0.7) == (False, False)


def test_frozen_side_does_not_change_and_the_other_does():
    gan = CRNNGAN(TINY, seed=0)
    rng = np.random.default_rng(0)
    batch = (tf.constant(rng.normal(size=(4, 6, 4)), tf.float32),
             tf.constant(rng.random((4, 6, 4)), tf.float32))
    d_before = [w.numpy() for w in gan.discriminator.weights]
    g_before = [w.numpy() for w in gan.generator.weights]
    gan.gan_step(batch, train_d=False, train_g=True)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(d_before, gan.discriminator.weights))
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(g_before, gan.generator.weights))


def test_distributed_step_equals_single_device_step():
    script = """
        import numpy as np, tensorflow as tf
        from kerasmusic.training.crnngan import CRNNGAN, CRNNGANConfig
        cfg = CRNNGANConfig(units=8, n_layers=1, feature_matching=False, l2=1e-3)
        rng = np.random.default_rng(0)
        real = rng.normal(size=(4, 6, 4)).astype("float32")
        noise = rng.random((4, 6, 4)).astype("float32")
        out = {}
        for name, strategy in [("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                               ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))]:
            gan = CRNNGAN(cfg, strategy=strategy, seed=1)
            assert gan.strategy.num_replicas_in_sync == (2 if name == "two" else 1)
            data = tf.data.Dataset.from_tensors((real, noise))
            batch = next(iter(strategy.experimental_distribute_dataset(data)))
            losses = gan.gan_step(batch)
            out[name] = (losses, [w.numpy() for w in gan.generator.weights
                                  + gan.discriminator.weights])
        np.testing.assert_allclose(out["one"][0], out["two"][0], rtol=1e-5)
        for a, b in zip(out["one"][1], out["two"][1]):
            np.testing.assert_allclose(a, b, atol=1e-6)
        print("EQUAL")
    """
    assert "EQUAL" in run_on_two_cpus(script)


def _dataset(batch=4, seq_len=8, steps=3):
    pieces = [km.Piece([km.Track([km.Note(km.data.notes.to_fraction(i / 2),
                                          km.data.notes.to_fraction(1 / 2), 60 + (i * 5) % 12)
                                  for i in range(40)])])]
    enc = ToneEncoding().fit(pieces)
    return tone_dataset(pieces, enc, seq_len=seq_len, batch_size=batch, steps_per_epoch=steps)


def test_checkpoint_resume_continues_at_the_same_step(tmp_path):
    # MLE epochs only: each traced step costs seconds, and the checkpoint holds the same
    # objects whichever phase wrote it.
    ds = _dataset()
    first = CRNNGAN(TINY, seed=3)
    history = first.fit(ds, epochs=2, pretrain_epochs=3, checkpoint_dir=tmp_path,
                        verbose=False)
    assert int(first.step) == 6 and int(first.epoch) == 2 and len(history["mle_loss"]) == 2
    resumed = CRNNGAN(TINY, seed=99)  # other initial weights, all overwritten by the restore
    # Nothing left to train; the history of the whole run comes back (history.json).
    assert resumed.fit(ds, epochs=2, pretrain_epochs=3, checkpoint_dir=tmp_path,
                       verbose=False) == history
    assert int(resumed.step) == 6
    for a, b in zip(first.generator.weights + first.discriminator.weights,
                    resumed.generator.weights + resumed.discriminator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(first.mle_optimizer.variables, resumed.mle_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    longer = resumed.fit(ds, epochs=3, pretrain_epochs=3, checkpoint_dir=tmp_path,
                         verbose=False)
    assert int(resumed.step) == 9 and int(resumed.epoch) == 3
    assert longer["mle_loss"][:2] == history["mle_loss"] and len(longer["mle_loss"]) == 3


def test_generated_tones_decode_to_a_valid_midi_file(tmp_path):
    pieces = [km.Piece([km.Track([km.Note(km.data.notes.to_fraction(i), 1, 60 + i % 7, 80)
                                  for i in range(20)])])]
    enc = ToneEncoding().fit(pieces)
    gan = CRNNGAN(TINY, seed=0)
    piece = enc.decode(gan.generate(1, 30, seed=2)[0])
    km.write_midi(piece, tmp_path / "g.mid")
    back = km.read_midi(tmp_path / "g.mid")
    assert len(back.notes) > 0 and all(0 <= n.pitch <= 127 for n in back.notes)


def test_mle_pretraining_loss_falls_on_bundled_chorales(cache_dir):
    pieces = km.load_corpus("chorales", limit=6, workers=1, progress=False).pieces
    enc = ToneEncoding().fit(pieces)
    ds = tone_dataset(pieces, enc, seq_len=16, batch_size=8, steps_per_epoch=1, seed=0)
    gan = CRNNGAN(CRNNGANConfig(units=16, pretrain_learning_rate=0.01), seed=0)
    batch = next(iter(gan.distribute(ds)))
    losses = [gan.mle_step(batch) for _ in range(25)]
    assert losses[-1] < 0.7 * losses[0], losses


def test_seed_variant_trains_on_scaled_tokens_and_decodes(tmp_path):
    pieces = [km.Piece([km.Track([km.Note(km.data.notes.to_fraction(i), 1, 60 + (i * 3) % 12)
                                  for i in range(30)])])]
    result = km.train_crnngan(pieces, variant="seed", seq_len=8, batch_size=4,
                              steps_per_epoch=2, epochs=2, pretrain_epochs=0,
                              config=CRNNGANConfig(latent_dim=6, units=8, n_layers=1,
                                                 freeze_threshold=None),
                              verbose=False)
    assert result.gan.generator.count_params() == km.build_generator(6, (8, 1)).count_params()
    assert len(result.history["d_loss"]) == 2
    piece = result.encoding.decode(result.gan.generate(1, 8, seed=0)[0])
    # only tokens it has seen: the pieces (60..71) and their copies shifted -5..+6
    assert all(n.pitch in range(55, 78) for n in piece.notes)
    with pytest.raises(km.KerasMusicError, match="pretrain"):
        result.gan.mle_step(None)
    with pytest.raises(km.KerasMusicError, match="feature"):
        CRNNGAN(CRNNGANConfig(variant="seed", feature_matching=True))
