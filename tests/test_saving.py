
import numpy as np
import pytest
from builders import make_piece, serve_savedmodel

import kerasmusic as km


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    piece = make_piece([(60, 0, 1), (62, 1, 1), (64, 2, 1), (65, 3, 2), (67, 5, 1)])
    enc = km.NoteDurationEncoding(seq_len=4).fit([piece])
    model = km.create_network(enc.n_pitches, enc.n_durations, embed_size=4, rnn_units=8)
    x, y = km.data.pipeline.note_duration_arrays([piece], enc)
    model.fit(x, y, epochs=1, verbose=0)
    rng = np.random.default_rng(0)
    probe = [rng.integers(0, enc.n_pitches, (3, 4)), rng.integers(0, enc.n_durations, (3, 4))]
    return model, enc, probe


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_keras_and_h5_round_trip_with_safe_mode(tmp_path, trained, name):
    model, enc, probe = trained
    path = tmp_path / name
    km.save_model(model, path, enc)
    assert km.encoding_path(path).exists()
    loaded = km.load_model(path)  # safe_mode=True inside
    for a, b in zip(model.predict(probe, verbose=0), loaded.predict(probe, verbose=0)):
        np.testing.assert_array_equal(a, b)
    assert km.load_encoding(path).get_config() == enc.get_config()


def test_savedmodel_loads_without_kerasmusic(tmp_path, trained):
    model, enc, probe = trained
    km.save_model(model, tmp_path / "sm", enc)
    served = serve_savedmodel(tmp_path / "sm", probe)
    expected = model.predict(probe, verbose=0)
    for got, want in zip(served, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert (tmp_path / "sm" / "encoding.json").exists()


def test_mismatched_vocabulary_is_a_clear_error(tmp_path, trained):
    model, enc, _ = trained
    km.save_model(model, tmp_path / "m.keras", enc)
    other = km.NoteDurationEncoding(seq_len=4).fit([make_piece([(40 + i, i, 1)
                                                                for i in range(9)])])
    with pytest.raises(km.VocabularyMismatchError):
        km.load_model(tmp_path / "m.keras", other)
    other.save(km.encoding_path(tmp_path / "m.keras"))  # wrong file beside the model
    with pytest.raises(km.VocabularyMismatchError):
        km.load_model(tmp_path / "m.keras")


def test_missing_and_wrong_files(tmp_path):
    with pytest.raises(km.ModelFileError, match="no such model"):
        km.load_model(tmp_path / "nope.keras")
    (tmp_path / "junk.keras").write_text("junk")
    with pytest.raises(km.ModelFileError, match="junk.keras"):
        km.load_model(tmp_path / "junk.keras")
    (tmp_path / "dir").mkdir()
    with pytest.raises(km.ModelFileError, match="tf.saved_model.load"):
        km.load_model(tmp_path / "dir")


def test_model_saves_after_generating(tmp_path, trained):
    model, enc, probe = trained
    km.generate(model, enc, 4, seed=0)  # compiles and caches a generation loop on the model
    km.save_model(model, tmp_path / "after.keras", enc)
    loaded = km.load_model(tmp_path / "after.keras")
    np.testing.assert_array_equal(model.predict(probe, verbose=0)[0],
                                  loaded.predict(probe, verbose=0)[0])
    assert km.generate(loaded, enc, 6, seed=3, stop_at_start=False)[0].notes == \
        km.generate(model, enc, 6, seed=3, stop_at_start=False)[0].notes


@pytest.mark.parametrize("name", ["same.keras", "same.h5"])
def test_same_size_but_different_vocabulary_is_refused(tmp_path, trained, name):
    model, enc, _ = trained
    km.save_model(model, tmp_path / name, enc)
    config = enc.get_config()
    tokens = config["pitch_vocabulary"]["tokens"]
    # Rename every token but the specials (start, rest, unk).
    config["pitch_vocabulary"]["tokens"] = tokens[:3] + [f"{t}x" for t in tokens[3:]]
    impostor = km.NoteDurationEncoding.from_config(config)
    assert impostor.n_pitches == enc.n_pitches
    with pytest.raises(km.VocabularyMismatchError, match="not the one this model was saved"):
        km.load_model(tmp_path / name, impostor)
    longer = km.NoteDurationEncoding.from_config({**enc.get_config(), "seq_len": 9})
    with pytest.raises(km.VocabularyMismatchError):
        km.load_model(tmp_path / name, longer)
    km.encoding_path(tmp_path / name).unlink()  # the copy inside the file is enough
    assert km.load_encoding(tmp_path / name).get_config() == enc.get_config()


@pytest.mark.parametrize("name", ["lambda.keras", "lambda.h5"])
def test_a_file_with_a_lambda_layer_is_refused_without_running_it(tmp_path, name):
    """safe_mode stays on: a Lambda's code in an untrusted .keras / .h5 file never runs."""
    import keras

    marker = tmp_path / "ran"
    path = str(marker)
    inputs = keras.Input((2,))
    outputs = keras.layers.Lambda(lambda x: (open(path, "w").close(), x * 2)[1])(inputs)
    keras.Model(inputs, outputs).save(tmp_path / name)
    marker.unlink()  # building the model ran the lambda once
    with pytest.raises(km.ModelFileError, match=f"{name}.*Lambda"):
        km.load_model(tmp_path / name)
    assert not marker.exists()
    if name.endswith(".keras"):
        # What safe_mode prevents: unsafe loading rebuilds the model and runs the code.
        keras.saving.load_model(tmp_path / name, safe_mode=False)
        assert marker.exists()
