import json
import warnings
from fractions import Fraction

import keras
import numpy as np
import pytest
import tensorflow as tf
from builders import make_piece, make_track

import kerasmusic as km
from kerasmusic.data.frames import FrameEncoding, frame_dataset, frame_windows, make_frame_datasets
from kerasmusic.errors import EncodingError
from kerasmusic.generation.pianoroll_rnn import (
    bernoulli_keys,
    generate_frames,
    generate_frames_reference,
    generate_pianoroll,
)
from kerasmusic.models.pianoroll_rnn import build_pianoroll_rnn
from kerasmusic.sampling import draw_uniforms
from kerasmusic.training.pianoroll_rnn import train_pianoroll_rnn


def _notes(piece):
    return [(n.start, n.duration, n.pitch) for n in piece.notes]


def test_encode_decode_round_trip_merges_tracks():
    melody = [(72, 0, 1), (74, 1, Fraction(1, 2)), (76, 2, 2)]  # a rest at 3/2..2
    bass = [(48, 0, 2), (43, 2, Fraction(3, 4)), (21, 3, 1), (108, 3, 1)]  # lowest/highest keys
    piece = make_piece(melody, bass)
    enc = FrameEncoding()
    frames = enc.encode(piece)
    assert frames.shape == (16, 88) and frames.dtype == np.float32
    assert frames[0, 72 - 21] == 1 and frames[0, 48 - 21] == 1 and frames[0].sum() == 2
    assert frames[6].sum() == 1  # only the bass during the melody's rest
    assert frames[12, 0] == 1 and frames[12, 87] == 1
    back = enc.decode(frames)
    assert len(back.tracks) == 1
    assert _notes(back) == _notes(piece)
    assert {n.velocity for n in back.notes} == {80}


def test_held_notes_merge_unless_repeats_are_separated():
    piece = make_piece([(60, 0, 1), (60, 1, 1), (60, 2, Fraction(1, 4)), (62, 3, 1)])
    merged = FrameEncoding().decode(FrameEncoding().encode(piece))
    assert _notes(merged) == [(0, Fraction(9, 4), 60), (3, 1, 62)]
    enc = FrameEncoding(separate_repeats=True)
    frames = enc.encode(piece)
    assert frames[3, 60 - 21] == 0 and frames[7, 60 - 21] == 0  # gap before each re-strike
    assert _notes(enc.decode(frames)) == [(0, Fraction(3, 4), 60), (1, Fraction(3, 4), 60),
                                          (2, Fraction(1, 4), 60), (3, 1, 62)]


def test_step_rounding_and_track_selection():
    piece = make_piece([(60, Fraction(1, 3), Fraction(1, 3))], [(64, 0, 2)])
    enc = FrameEncoding(step=Fraction(1, 2), tracks=[0])
    frames = enc.encode(piece)
    assert frames.shape == (2, 88)  # 1/3..2/3 rounds to frame 1..1, at least one frame
    assert frames[:, 64 - 21].sum() == 0 and frames[1, 60 - 21] == 1


def test_pieces_without_notes_in_the_key_range_are_clear_errors():
    low = make_piece([(10, 0, 1), (120, 1, 1)], name="too_far.mid")
    with pytest.raises(EncodingError, match=r"too_far\.mid: no pitched notes in the key range "
                                            r"21\.\.108 \(2 outside"):
        FrameEncoding().encode(low)
    drums = make_piece(make_track([(36, 0, 1)], is_drum=True), name="drums.mid")
    with pytest.raises(km.KerasMusicError, match="drums.mid"):
        FrameEncoding().encode(drums)
    with pytest.warns(UserWarning, match=r"some\.mid: 1 notes outside"):
        frames = FrameEncoding().encode(make_piece([(10, 0, 1), (60, 0, 1)], name="some.mid"))
    assert frames.sum() == 4
    with pytest.raises(EncodingError, match="shape"):
        FrameEncoding().decode(np.zeros((4, 12)))


def test_config_json_round_trip(tmp_path):
    enc = FrameEncoding(step="1/3", lowest_pitch=36, n_pitches=48, tracks=[1, 0],
                        separate_repeats=True, velocity=64, program=40)
    enc.save(tmp_path / "enc.json")
    again = FrameEncoding.load(tmp_path / "enc.json")
    assert again.get_config() == enc.get_config()
    assert json.loads((tmp_path / "enc.json").read_text())["step"] == "1/3"
    with pytest.raises(km.KerasMusicError, match="not a frame encoding"):
        FrameEncoding.from_config({"type": "events"})
    with pytest.raises(km.KerasMusicError, match="MIDI range"):
        FrameEncoding(lowest_pitch=100, n_pitches=88)


def test_windows_have_next_frame_targets_and_short_pieces_are_padded():
    frames = np.eye(88, dtype=np.float32)[np.arange(40) % 88]
    windows = frame_windows(frames, seq_len=16, hop=8)
    assert windows.shape == (4, 17, 88) and windows.dtype == np.uint8
    assert [int(w[0].argmax()) for w in windows] == [0, 8, 16, 23]  # the last ends at the end
    short = frame_windows(frames[:5], seq_len=16)
    assert short.shape == (1, 17, 88) and short[0, 5:].sum() == 0

    piece = make_piece([(60 + i % 12, i, 1) for i in range(12)])
    x, y = next(iter(frame_dataset([piece], FrameEncoding(), seq_len=8, batch_size=64,
                                   shuffle=False)))
    assert x.shape == y.shape and x.shape[1:] == (8, 88) and x.dtype == tf.float32
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])


def test_datasets_are_split_by_piece():
    pieces = [make_piece([(40 + i, j, 1) for j in range(8)], name=f"p{i}") for i in range(10)]
    train, val = make_frame_datasets(pieces, FrameEncoding(), seq_len=8, hop=8,
                                     validation_fraction=0.2, seed=1)

    def keys(ds):
        return {int(k) for x, _ in ds for k in np.flatnonzero(x.numpy().sum((0, 1)))}

    train_keys, val_keys = keys(train), keys(val)
    assert len(val_keys) == 2 and len(train_keys) == 8 and not train_keys & val_keys
    with pytest.raises(EncodingError, match="empty"):
        make_frame_datasets([*pieces, make_piece([(5, 0, 1)], name="empty")], FrameEncoding())
    with pytest.warns(UserWarning, match="1 of 11 pieces cannot be encoded"):
        make_frame_datasets([*pieces, make_piece([(5, 0, 1)], name="empty")], FrameEncoding(),
                            on_error="skip")


def test_builder_shapes_loss_object_and_no_lambda():
    model = build_pianoroll_rnn(units=4, n_layers=2, dropout=0.1)
    probs = model.predict(np.zeros((2, 7, 88), np.float32), verbose=0)
    assert probs.shape == (2, 7, 88) and ((probs > 0) & (probs < 1)).all()
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy)
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "LSTM", "Dropout", "LSTM", "Dropout", "Concatenate", "Dense"]
    plain = build_pianoroll_rnn(units=4, n_layers=1, skip=False)
    assert [type(layer).__name__ for layer in plain.layers[1:]] == ["LSTM", "Dense"]
    with pytest.raises(km.KerasMusicError, match="units"):
        build_pianoroll_rnn(units=0)
    assert build_pianoroll_rnn().count_params() == 908_952  # 2 x LSTM(256), skip, Dense(88)
    assert build_pianoroll_rnn(skip=False).count_params() == 901_208


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained a few epochs on the Nottingham tunes bundled with music21."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KERASMUSIC_CACHE", str(tmp_path_factory.mktemp("cache")))
    corpus = km.load_corpus("nottingham-dataset", progress=False)
    result = train_pianoroll_rnn(corpus.pieces, seq_len=32, hop=16, units=16, n_layers=1,
                                 epochs=6, batch_size=8, learning_rate=0.01, seed=0, verbose=0,
                                 transpose=None, patience=None)
    mp.undo()
    return corpus.pieces, result


def test_loss_falls_on_bundled_nottingham_tunes(trained):
    pieces, result = trained
    assert len(pieces) == 2
    assert result.initial_val_loss > 0.6  # an untrained sigmoid: about log(2)
    assert result.history["val_loss"][-1] < 0.6 * result.initial_val_loss
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_bernoulli_keys_temperature_and_threshold():
    probs = np.array([[0.1, 0.4, 0.6, 0.9]], np.float32)
    uniform = np.array([[0.05, 0.5, 0.5, 0.95]], np.float32)
    np.testing.assert_array_equal(bernoulli_keys(probs, uniform), [[1, 0, 1, 0]])
    np.testing.assert_array_equal(bernoulli_keys(probs, uniform, temperature=0), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(bernoulli_keys(probs, uniform, threshold=0.4), [[0, 1, 1, 1]])
    # a low temperature pushes 0.1 towards 0 and 0.9 towards 1
    np.testing.assert_array_equal(bernoulli_keys(probs, uniform, temperature=0.25),
                                  [[0, 0, 1, 1]])
    draws = draw_uniforms(0, (20000, 1))
    p = np.full((20000, 1), 0.3, np.float32)
    assert abs(float(np.mean(bernoulli_keys(p, draws))) - 0.3) < 0.015


def test_compiled_loop_matches_the_plain_loop_and_is_seeded(trained):
    pieces, result = trained
    primer = result.encoding.encode(pieces[0])[:12]
    fast = generate_frames(result.model, primer, 10, seed=3)
    slow, probs = generate_frames_reference(result.model, primer, 10, seed=3)
    assert fast.shape == (1, 10, 88)
    draws = draw_uniforms(3, (10, 1, 88)).transpose(1, 0, 2)
    sure = np.abs(draws - probs) > 1e-4  # a float tie could go either way
    np.testing.assert_array_equal(fast[sure], slow[sure])
    np.testing.assert_array_equal(generate_frames(result.model, primer, 10, seed=3), fast)
    assert not np.array_equal(generate_frames(result.model, primer, 10, seed=4), fast)
    greedy = generate_frames(result.model, primer, 10, threshold=0.5, jit_compile=False)
    sure = np.abs(probs[:, 0] - 0.5) > 1e-4
    np.testing.assert_array_equal(greedy[:, 0][sure], (probs[:, 0] >= 0.5)[sure])
    np.testing.assert_array_equal(greedy, generate_frames(result.model, primer, 10,
                                                          threshold=0.5, seed=9,
                                                          jit_compile=False))


@pytest.mark.parametrize("kind", ["plain", "gru"])
def test_compiled_loop_steps_other_stacks_exactly(kind):
    if kind == "plain":
        model = build_pianoroll_rnn(units=6, n_layers=2, skip=False)
    else:
        frames = keras.Input((None, 88))
        x = keras.layers.GRU(5, return_sequences=True)(frames)
        model = keras.Model(frames, keras.layers.Dense(88, "sigmoid", name="keys")(x))
    primer = np.random.default_rng(1).integers(0, 2, (2, 5, 88)).astype(np.float32)
    fast = generate_frames(model, primer, 6, seed=0, jit_compile=False)
    slow, probs = generate_frames_reference(model, primer, 6, seed=0)
    sure = np.abs(draw_uniforms(0, (6, 2, 88)).transpose(1, 0, 2) - probs) > 1e-4
    np.testing.assert_array_equal(fast[sure], slow[sure])


def test_other_models_are_refused():
    inputs = keras.Input((None, 88))
    model = keras.Model(inputs, keras.layers.Dense(88, name="keys")(inputs))
    with pytest.raises(km.KerasMusicError, match="not a piano-roll RNN"):
        generate_frames(model, np.zeros((1, 88)), 2)


def test_generated_pieces_decode_to_midi_that_reads_back(trained, tmp_path):
    pieces, result = trained
    out = generate_pianoroll(result.model, result.encoding, 32, primer=pieces[1],
                             primer_steps=16, n_pieces=2, seed=1, temperature=0.8)
    assert len(out) == 2 and all(p.notes for p in out)
    for i, piece in enumerate(out):
        km.write_midi(piece, tmp_path / f"g{i}.mid")
        back = km.read_midi(tmp_path / f"g{i}.mid")
        assert _notes(back) == _notes(piece)
        assert back.duration <= Fraction(48, 4)
    assert _notes(out[0]) != _notes(out[1])
    # the primer's 16 frames open each piece unchanged
    primer = result.encoding.encode(pieces[1])[:16]
    np.testing.assert_array_equal(result.encoding.encode(out[0])[:16], primer)
    silent = generate_pianoroll(result.model, result.encoding, 8, seed=0, include_primer=False)
    assert len(silent) == 1


def test_primer_errors_name_the_input(trained):
    _, result = trained
    with pytest.raises(EncodingError, match="primer.*too short"):
        generate_frames(result.model, np.zeros((0, 88), np.float32), 4)
    with pytest.raises(EncodingError, match="nothing.mid: no pitched notes"):
        generate_pianoroll(result.model, result.encoding, 4,
                           primer=make_piece([(5, 0, 1)], name="nothing.mid"))
    with pytest.raises(EncodingError, match="shape"):
        generate_pianoroll(result.model, result.encoding, 4, primer=np.zeros((3, 12)))
    with pytest.raises(km.KerasMusicError, match="temperature"):
        generate_frames(result.model, np.zeros((1, 88)), 4, temperature=-1)


@pytest.mark.parametrize("name", ["roll.keras", "roll.h5"])
def test_save_load_round_trip_with_safe_mode(trained, tmp_path, name):
    _, result = trained
    km.save_model(result.model, tmp_path / name, result.encoding)
    model = km.load_model(tmp_path / name)  # safe_mode=True inside
    x = np.random.default_rng(0).integers(0, 2, (1, 10, 88)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), result.model.predict(x, verbose=0),
                               atol=1e-6)
    encoding = km.load_encoding(tmp_path / name)
    assert isinstance(encoding, FrameEncoding)
    assert encoding.get_config() == result.encoding.get_config()
    np.testing.assert_array_equal(generate_frames(model, x[0], 6, seed=2, jit_compile=False),
                                  generate_frames(result.model, x[0], 6, seed=2))
    with pytest.raises(km.VocabularyMismatchError, match="88"):
        km.save_model(result.model, tmp_path / "bad.keras", FrameEncoding(n_pitches=60))


def test_savedmodel_export_serves_without_kerasmusic(trained, tmp_path):
    _, result = trained
    km.save_model(result.model, tmp_path / "roll_savedmodel", result.encoding)
    assert (tmp_path / "roll_savedmodel" / "encoding.json").exists()
    served = tf.saved_model.load(str(tmp_path / "roll_savedmodel"))
    x = np.zeros((1, 5, 88), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(served.serve(x).numpy(), result.model.predict(x, verbose=0),
                                   atol=1e-6)


def test_sample_rule_holds_what_sounds_at_each_frame_start():
    # Two eighths on beat 0 (C then D), a dotted quarter E from 1.5 (it sounds on beat 2).
    piece = make_piece([(60, 0, Fraction(1, 2)), (62, Fraction(1, 2), Fraction(1, 2)),
                        (64, Fraction(3, 2), Fraction(3, 2))])
    cover = FrameEncoding(step=1).encode(piece)
    sample = FrameEncoding(step=1, frame_rule="sample").encode(piece)
    assert cover[0, [60 - 21, 62 - 21]].tolist() == [1, 1]  # both eighths fill frame 0
    assert sample.shape == (3, 88)
    assert sample.sum(1).tolist() == [1, 0, 1]  # C on beat 0, nothing on 1, E on 2
    assert sample[0, 60 - 21] == 1 and sample[2, 64 - 21] == 1
    enc = FrameEncoding(step=1, frame_rule="sample")
    assert FrameEncoding.from_config(enc.get_config()).frame_rule == "sample"
    assert FrameEncoding.from_config({**enc.get_config(), "frame_rule": "cover"}
                                     ).frame_rule == "cover"
    with pytest.raises(EncodingError, match=r"short\.mid: no note sounds at the start"):
        enc.encode(make_piece([(60, Fraction(1, 4), Fraction(1, 2))], name="short.mid"))
    with pytest.raises(km.KerasMusicError, match="frame_rule"):
        FrameEncoding(frame_rule="onsets")


def _joint_model(output, keys=5, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_pianoroll_rnn(keys, 6, 1, output=output, joint_units=7)
    if output == "made":  # its direct key-to-key weights start at zero
        layer = model.get_layer("keys")
        layer.direct_weights.assign(np.random.default_rng(seed).normal(
            size=layer.direct_weights.shape))
    return model


@pytest.mark.parametrize("output", ["nade", "made"])
def test_joint_keys_output_is_a_normalised_joint_distribution_over_each_frame(output):
    model = _joint_model(output, keys=5)
    assert [t.name for t in model.inputs] == ["frames", "next_frames"]
    history = np.random.default_rng(0).integers(0, 2, (1, 3, 5)).astype(np.float32)
    frames = np.array(np.meshgrid(*[[0, 1]] * 5, indexing="ij"), np.float32).reshape(5, -1).T
    nxt = np.repeat(history, 32, 0)
    nxt[:, -1] = frames  # every possible last frame after the same history
    probs = model.predict([np.repeat(history, 32, 0), nxt], verbose=0)[:, -1]
    joint = np.prod(np.where(frames == 1, probs, 1 - probs), axis=1)
    assert joint.sum() == pytest.approx(1.0, abs=1e-5)  # key k never sees itself or above
    assert len(np.unique(joint.round(6))) > 16  # and the keys are not independent
    # The earlier frames' outputs do not depend on the last frame (causal in time too).
    np.testing.assert_allclose(model.predict([np.repeat(history, 32, 0), nxt],
                                             verbose=0)[:, :-1].std(0), 0, atol=1e-6)


@pytest.mark.parametrize("output", ["nade", "made"])
def test_joint_keys_generation_matches_the_key_by_key_reference(output):
    model = _joint_model(output, keys=6)
    primer = np.random.default_rng(2).integers(0, 2, (2, 4, 6)).astype(np.float32)
    fast = generate_frames(model, primer, 4, seed=1, jit_compile=False)
    slow, probs = generate_frames_reference(model, primer, 4, seed=1)
    sure = np.abs(draw_uniforms(1, (4, 2, 6)).transpose(1, 0, 2) - probs) > 1e-4
    np.testing.assert_array_equal(fast[sure], slow[sure])
    np.testing.assert_array_equal(generate_frames(model, primer, 4, seed=1), fast)  # XLA too
    greedy = generate_frames(model, primer, 3, temperature=0, jit_compile=False)
    np.testing.assert_array_equal(greedy, generate_frames(model, primer, 3, temperature=0,
                                                          seed=5, jit_compile=False))


@pytest.mark.parametrize("output", ["made"])  # NADE trains the same way (CLI test)
def test_joint_keys_model_trains_reports_and_reloads(tmp_path, output):
    pieces = km.load_corpus("chorales", limit=12, progress=False).pieces
    enc = FrameEncoding(step=1, frame_rule="sample", lowest_pitch=36, n_pitches=48)
    result = train_pianoroll_rnn(pieces, encoding=enc, seq_len=16, units=12, n_layers=1,
                                 output=output, joint_units=8, epochs=4, batch_size=8,
                                 learning_rate=0.01, validation_fraction=0.25, seed=0,
                                 verbose=0, transpose=None)
    assert result.history["val_loss"][-1] < 0.5 * result.initial_val_loss
    stream = result.quality.streams[0]
    assert stream.name == "frames" and 0 < stream.model < stream.unigram
    again = km.evaluate_quality(result.model, enc, pieces, validation_fraction=0.25,
                                transpose=())
    assert again.streams[0].model == pytest.approx(stream.model, rel=1e-5)
    km.save_model(result.model, tmp_path / "joint.h5", enc)
    model = km.load_model(tmp_path / "joint.h5")  # safe_mode=True inside
    x = np.random.default_rng(0).integers(0, 2, (1, 6, 48)).astype(np.float32)
    np.testing.assert_allclose(model.predict([x, x], verbose=0),
                               result.model.predict([x, x], verbose=0), atol=1e-6)
    (piece,) = generate_pianoroll(model, enc, 8, primer=pieces[0], primer_steps=4, seed=0)
    assert piece.notes and all(36 <= n.pitch < 84 for n in piece.notes)
