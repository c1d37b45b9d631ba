import keras
import numpy as np
import pytest
from builders import make_piece
from model_contract import ModelContract

import kerasmusic as km
from kerasmusic.models.music_transformer import (
    RelativeCausalSelfAttention,
    last_step_model,
    note_duration_transformer,
    skew,
)
from kerasmusic.training.note_lstm import prepare_note_duration_data

TINY = {"max_len": 16, "n_layers": 1, "d_model": 16, "n_heads": 2, "dropout": 0.0}


def _ids(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape).astype("int32")


def test_outputs_are_next_token_distributions_after_every_step():
    model = km.build_music_transformer(20, **TINY)
    probs = np.asarray(model(_ids((3, 11), 20)))
    assert probs.shape == (3, 11, 20) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


def test_two_streams_and_the_last_step_model_share_weights():
    model = note_duration_transformer(9, 5, **TINY)
    assert model.output_names == ["pitch", "duration"]
    notes, durations = _ids((2, 7), 9), _ids((2, 7), 5, seed=1)
    every = [np.asarray(p) for p in model([notes, durations])]
    assert every[0].shape == (2, 7, 9) and every[1].shape == (2, 7, 5)
    last = last_step_model(model)
    assert last.count_params() == model.count_params()
    for t in (2, 4, 7):
        window = [np.asarray(p) for p in last([notes[:, :t], durations[:, :t]])]
        for head in range(2):
            np.testing.assert_allclose(window[head], every[head][:, t - 1], rtol=1e-5,
                                       atol=1e-6)
    with pytest.raises(km.KerasMusicError, match="not a Music Transformer"):
        last_step_model(km.create_network(9, 5, 4, 6))


@pytest.mark.parametrize("relative", [True, False])
def test_causal_a_changed_token_changes_nothing_before_it(relative):
    model = km.build_music_transformer(20, **{**TINY, "n_layers": 2}, relative=relative)
    tokens = _ids((2, 12), 20)
    changed = tokens.copy()
    changed[:, 6] = (changed[:, 6] + 7) % 20
    before, after = np.asarray(model(tokens)), np.asarray(model(changed))
    np.testing.assert_array_equal(before[:, :6], after[:, :6])
    assert np.abs(before[:, 6:] - after[:, 6:]).max() > 1e-4


def test_skewed_relative_logits_equal_the_naive_gather():
    rng = np.random.default_rng(0)
    batch, heads, length, dim, max_len = 2, 3, 7, 4, 10
    layer = RelativeCausalSelfAttention(heads, dim, max_len)
    layer.build((batch, length, 6))
    table = rng.normal(size=(heads, max_len, dim)).astype("float32")
    layer.relative_embedding.assign(table)
    q = rng.normal(size=(batch, length, heads, dim)).astype("float32")
    fast = np.asarray(layer.relative_logits(q))
    # Naive O(L^2 D): gather the table row of each (query, key) distance.
    distance = np.arange(length)[:, None] - np.arange(length)[None, :]  # i - j
    rows = np.clip(max_len - 1 - distance, 0, max_len - 1)
    gathered = table[:, rows]  # (heads, L, L, dim)
    naive = np.einsum("bihk,hijk->bhij", q, gathered)
    lower = distance >= 0
    np.testing.assert_allclose(fast[..., lower], naive[..., lower], rtol=1e-5, atol=1e-5)
    # The skew itself on a plain table: entry [i, j] is row L - 1 + j - i.
    rel = rng.normal(size=(length, length)).astype("float32")
    skewed = np.asarray(skew(rel))
    i, j = np.nonzero(lower)
    np.testing.assert_array_equal(skewed[i, j], rel[i, length - 1 + j - i])


def test_relative_attention_uses_the_table_and_rejects_long_inputs():
    model = km.build_music_transformer(20, **TINY)
    tokens = _ids((1, 8), 20)
    before = np.asarray(model(tokens))
    layer = model.get_layer("block_0_attention")
    layer.relative_embedding.assign(layer.relative_embedding * 0 + 1.0)
    assert np.abs(np.asarray(model(tokens)) - before).max() > 1e-4
    with pytest.raises(km.KerasMusicError, match="max_len=16"):
        model(_ids((1, 17), 20))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(km.KerasMusicError, match="multiple of n_heads"):
        km.build_music_transformer(20, d_model=10, n_heads=4)
    with pytest.raises(km.KerasMusicError, match="vocab_size"):
        km.build_music_transformer(0)
    with pytest.raises(km.KerasMusicError, match="dropout"):
        km.build_music_transformer(20, dropout=1.0)
    with pytest.raises(km.KerasMusicError, match="output_names"):
        km.build_music_transformer((5, 6), output_names=["a"])


def test_mixed_float16_keeps_attention_softmax_and_outputs_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = note_duration_transformer(9, 5, **TINY)
        attention = model.get_layer("block_0_attention")
        assert attention.compute_dtype == "float16"
        pitch, duration = model([_ids((2, 6), 9), _ids((2, 6), 5)])
        assert pitch.dtype == duration.dtype == "float32"
        np.testing.assert_allclose(np.asarray(pitch).sum(-1), 1, rtol=1e-4)
        loss = model.evaluate([_ids((2, 6), 9), _ids((2, 6), 5)],
                              [_ids((2, 6), 9), _ids((2, 6), 5)], verbose=0)
        assert np.isfinite(loss).all()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _melodies(n=6, length=40):
    rng = np.random.default_rng(0)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    return [make_piece([(scale[(j * (k + 1) + int(rng.integers(0, 2))) % 8], j, 1 + j % 2)
                        for j in range(length)], name=f"m{k}") for k in range(n)]


def test_trainer_learns_the_lstm_targets_and_reports_them():
    pieces = _melodies()
    result = km.train_music_transformer(
        pieces, seq_len=12, n_layers=1, d_model=16, n_heads=2, epochs=3, batch_size=8,
        validation_fraction=0.34, verbose=0, transpose=None, warmup_steps=4, dropout=0.0,
        learning_rate=3e-3)
    history = result.history
    assert history["loss"][-1] < history["loss"][0]
    assert min(history["val_loss"]) < result.initial_val_loss
    # The same split and targets as the attention LSTM's trainer.
    _, train, val, _ = prepare_note_duration_data(
        pieces, tracks=None, seq_len=12, min_count=2, chords="split",
        validation_fraction=0.34, seed=0, transpose=None)
    assert [p.name for p in result.validation_pieces] == [p.name for p in val]
    assert [p.name for p in result.train_pieces] == [p.name for p in train]
    report = result.quality
    assert report.model == "Music Transformer"
    assert report["pitch"].n_targets == sum(len(result.encoding.encode(p)[0]) + 1 for p in val)
    # The validation loss is the report's NLL of the kept (best) weights.
    np.testing.assert_allclose(report["pitch"].model + report["duration"].model,
                               min(history["val_loss"]), rtol=1e-4)
    assert result.sequence_model.output_names == ["pitch", "duration"]


def test_trainer_resumes_from_its_checkpoint_folder(tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise RuntimeError("interrupted")

    kwargs = dict(seq_len=8, n_layers=1, d_model=8, n_heads=2, epochs=2, batch_size=8,
                  validation_fraction=0.34, verbose=0, transpose=None, warmup_steps=0,
                  checkpoint_dir=str(tmp_path / "backup"))
    with pytest.raises(RuntimeError, match="interrupted"):
        km.train_music_transformer(_melodies(), callbacks=[Interrupt()], **kwargs)
    assert any((tmp_path / "backup").iterdir())
    resumed = km.train_music_transformer(_melodies(), **kwargs)
    assert len(resumed.history["loss"]) == 1  # epoch 2 only
    assert not (tmp_path / "backup").exists() or not any((tmp_path / "backup").iterdir())


def test_trainer_refuses_an_unknown_schedule():
    with pytest.raises(km.InvalidArgumentError, match="schedule"):
        km.train_music_transformer(_melodies(), schedule="linear")


class TestNoteDurationTransformerContract(ModelContract):
    """Build, config, three save formats, distributed step, seeded generation."""

    def build(self):
        return note_duration_transformer(9, 5, **TINY)  # no dropout: replicas draw apart

    def inputs(self, batch, seed):
        return [_ids((batch, 10), 9, seed), _ids((batch, 10), 5, seed + 100)]

    def targets(self, batch, seed):
        return [_ids((batch, 10), 9, seed), _ids((batch, 10), 5, seed + 100)]

    def generate(self, model, seed):
        pitches, _ = km.generate_ids(last_step_model(model), _ids((2, 6), 9), _ids((2, 6), 5),
                                     8, seed=seed, stop_at_start=False)
        return pitches
