import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from builders import run_on_two_cpus

import kerasmusic as km
from kerasmusic.data.text import CharEncoding, TextCorpus, text_dataset
from kerasmusic.errors import (
    KerasMusicError,
    UnknownCharactersError,
    UnknownLabelError,
    VocabularyMismatchError,
)
from kerasmusic.generation.char_rnn import (
    generate_char_ids,
    generate_char_ids_reference,
    generate_text,
)
from kerasmusic.models.char_rnn import (
    CharRNNCore,
    build_char_rnn,
    build_stateful_char_rnn,
    reset_char_rnn_state,
)
from kerasmusic.sampling import Sampler
from kerasmusic.saving import encoding_path, load_encoding, load_model, save_model
from kerasmusic.training.char_rnn import (
    evaluate_perplexity,
    make_char_rnn_train_step,
    train_char_rnn,
)

SONGS = TextCorpus(["Why do you have to leave me", "分开 一只在停留", "I don't know why"],
                   labels=["ABBA", "Jay", "ABBA"])


@pytest.fixture(scope="module")
def encoding():
    return CharEncoding.fit(SONGS)


@pytest.fixture(scope="module")
def conditional(encoding):
    keras.utils.set_random_seed(1)
    return build_char_rnn(encoding.vocab_size, n_labels=encoding.n_labels, embed_size=None,
                          rnn_units=8)


def _ids(vocab, shape, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, shape).astype("int32")


def test_carried_state_gives_the_logits_of_one_pass():
    keras.utils.set_random_seed(0)
    model = build_char_rnn(13, embed_size=5, rnn_units=6, n_layers=2)
    ids = _ids(13, (3, 15))
    full = model(ids).numpy()
    core = CharRNNCore(model)
    parts, state = [], None
    for chunk in np.split(ids, [4, 11], axis=1):  # uneven chunks, state carried
        logits, state = core(chunk, state=state)
        parts.append(logits)
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, atol=1e-5)
    steps, state = [], None
    for t in range(15):  # one character at a time through the LSTM cells
        logits, state = core.step(ids[:, t], state=state)
        steps.append(logits)
    np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-5)
    # Without the carried state the second half differs: the check above can fail.
    assert not np.allclose(core(ids[:, 7:])[0], full[:, 7:], atol=1e-3)

    stateful = build_stateful_char_rnn(model, batch_size=3)
    first = stateful(ids[:, :7]).numpy()
    second = stateful(ids[:, 7:]).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), full, atol=1e-5)
    reset_char_rnn_state(stateful)
    np.testing.assert_allclose(stateful(ids[:, :7]), first, atol=1e-6)


def test_conditional_output_changes_with_the_label(conditional, encoding):
    keras.utils.set_random_seed(2)
    embedded = build_char_rnn(encoding.vocab_size, n_labels=2, label_embed_size=3, rnn_units=8)
    ids = _ids(encoding.vocab_size, (2, 9))
    for model in (conditional, embedded):
        out = [model([ids, np.full_like(ids, label)]).numpy() for label in (0, 1)]
        assert np.all(np.abs(out[0] - out[1]).max(axis=-1) > 1e-4)  # at every step
        steps, state = [], None
        core = CharRNNCore(model)
        for t in range(9):
            logits, state = core.step(ids[:, t], np.ones(2, "int32"), state)
            steps.append(logits)
        np.testing.assert_allclose(np.stack(steps, axis=1), out[1], atol=1e-5)
    with pytest.raises(KerasMusicError, match="conditional"):
        CharRNNCore(conditional)(ids)


def test_checkpointed_gradients_equal_plain_gradients():
    keras.utils.set_random_seed(3)
    model = build_char_rnn(9, embed_size=4, rnn_units=5, n_layers=2)
    core = CharRNNCore(model)
    ids, targets = _ids(9, (2, 10), 1), _ids(9, (2, 10), 2)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def grads(checkpoint_every):
        with tf.GradientTape() as tape:
            logits, state = core(ids, training=True, checkpoint_every=checkpoint_every)
            value = loss(targets, logits)
        return value, state, tape.gradient(value, model.trainable_variables)

    plain, checkpointed = grads(None), grads(4)  # segments 4, 4, 2
    np.testing.assert_allclose(plain[0], checkpointed[0], rtol=1e-6)
    for a, b in zip(plain[1] + tuple(plain[2]), checkpointed[1] + tuple(checkpointed[2])):
        np.testing.assert_allclose(tf.convert_to_tensor(a), tf.convert_to_tensor(b), atol=1e-6)


def test_truncated_bptt_carries_the_state_across_batches():
    keras.utils.set_random_seed(4)
    model = build_char_rnn(11, embed_size=4, rnn_units=6)
    stream = _ids(11, 400, 3)
    ds = text_dataset(stream, 10, 4, mode="consecutive")
    # With a zero learning rate the weights stay put, so the state handed from batch to
    # batch must end where one pass over each whole row ends.
    step = make_char_rnn_train_step(model, keras.optimizers.SGD(learning_rate=0.0))
    core, state, rows = CharRNNCore(model), None, []
    for inputs, targets in ds:
        state = core.zero_state(4) if state is None else state
        _, state = step(inputs, targets, state)
        rows.append(inputs.numpy())
    rows = np.concatenate(rows, axis=1)
    _, one_pass = core(rows)
    for a, b in zip(state, one_pass):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Evaluating with the state carried scores each row as one long text.
    mean, ppl = evaluate_perplexity(model, ds, carry_state=True)
    logits = model(rows).numpy()
    targets = np.concatenate([t.numpy() for _, t in ds], axis=1)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, logits)
    np.testing.assert_allclose(mean, float(expected), rtol=1e-5)
    assert ppl == pytest.approx(np.exp(mean))


def test_the_training_loop_carries_the_state_and_resets_it_each_epoch():
    rng = np.random.default_rng(5)
    corpus = TextCorpus(["".join(rng.choice(list("abcde fg"), 300))])
    # Learning rate 0: the weights stay put, so each epoch's reported loss is a pure
    # function of how the loop hands the state from batch to batch.
    result = train_char_rnn(corpus, mode="consecutive", seq_len=10, batch_size=4,
                            embed_size=4, rnn_units=6, epochs=2, learning_rate=0.0,
                            validation_fraction=0.0, seed=2, verbose=0)
    ds = text_dataset(result.encoding.stream(corpus)[0], 10, 4, mode="consecutive")
    carried = evaluate_perplexity(result.model, ds, carry_state=True)[0]
    reset = evaluate_perplexity(result.model, ds, carry_state=False)[0]
    assert abs(carried - reset) > 1e-4
    first, second = result.history["loss"]
    assert first == pytest.approx(carried, rel=1e-5)
    assert second == pytest.approx(first, rel=1e-7)  # the state starts from zero again


def test_char_rnn_beats_a_character_bigram_on_held_out_chorale_lyrics(cache_dir, tmp_path):
    result = train_char_rnn(
        None, limit=40, seq_len=32, batch_size=8, embed_size=16, rnn_units=48, epochs=12,
        learning_rate=1e-2, validation_fraction=0.2, out=tmp_path / "run", seed=0, verbose=0,
        patience=None)
    ppl = result.history["val_perplexity"]
    assert len(ppl) == 12 and len(result.history["perplexity"]) == 12
    assert result.initial_val_perplexity > 40  # untrained: about the alphabet size
    assert result.best_val_perplexity < result.bigram_perplexity, (ppl, result.bigram_perplexity)
    assert result.best_val_perplexity == min(ppl)
    # The best epoch's weights are the ones kept and the ones saved.
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["val_perplexity"] == pytest.approx(ppl)
    saved = load_model(result.path)
    assert load_encoding(result.path) == result.encoding
    for m in (result.model, saved):
        assert evaluate_perplexity(m, _val(result))[1] == pytest.approx(
            result.best_val_perplexity, rel=1e-4)
    # The quality report: the kept weights' NLL next to the count models, saved beside.
    chars = result.quality["characters"]
    assert chars.model == pytest.approx(math.log(result.best_val_perplexity))
    assert chars.bigram == pytest.approx(math.log(result.bigram_perplexity))
    assert chars.model < chars.bigram < chars.unigram and result.quality.beats_bigram
    assert chars.unit == "nats/char"
    assert f"perplexity (e^NLL): model {result.best_val_perplexity:.2f}," in \
        result.quality.table()
    assert km.QualityReport.load(km.quality_path(result.path)).to_dict() == \
        result.quality.to_dict()
    again = km.evaluate_quality(saved, load_encoding(result.path),
                                km.as_text_corpus(None, limit=40),
                                validation_fraction=0.2, seq_len=32, batch_size=8)
    assert again["characters"].n_targets == chars.n_targets
    assert again["characters"].model == pytest.approx(chars.model, rel=1e-4)
    assert again["characters"].bigram == pytest.approx(chars.bigram)
    text = generate_text(result.model, result.encoding, "Ach Gott", 40, seed=1)[0]
    assert text.startswith("Ach Gott") and len(text) == 48


def _val(result):
    from kerasmusic.data.text import as_text_corpus, split_corpus, validation_dataset

    val = split_corpus(as_text_corpus(None, limit=40), 0.2, 0)[1]
    return validation_dataset(result.encoding.stream(val)[0], 32, 8)


@pytest.mark.parametrize("sampler", [Sampler.greedy(), Sampler(1.0), Sampler(0.8, top_k=4),
                                     Sampler(1.2, top_p=0.9), Sampler(1.0, method="gumbel")])
def test_compiled_generation_equals_the_reference_loop(conditional, encoding, sampler):
    primes = [encoding.encode("\n\nWhy"), encoding.encode("\n\n分开 一"), encoding.encode("I")]
    kwargs = dict(label_ids=[0, 1, 0], sampler=sampler, seed=7)
    fast = generate_char_ids(conditional, primes, 25, **kwargs)
    slow = generate_char_ids_reference(conditional, primes, 25, **kwargs)
    np.testing.assert_array_equal(fast, slow)
    assert fast.shape == (3, 25)
    if sampler.temperature == 1.0:  # the rows do not all repeat one character
        assert len(np.unique(fast)) > 3


def test_generate_text_is_seeded_and_checks_its_inputs(conditional, encoding):
    a = generate_text(conditional, encoding, "Why", 30, temperature=1.0, n_samples=3,
                      label="ABBA", seed=5)
    assert a == generate_text(conditional, encoding, "Why", 30, temperature=1.0, n_samples=3,
                              label="ABBA", seed=5)
    assert a != generate_text(conditional, encoding, "Why", 30, temperature=1.0, n_samples=3,
                              label="ABBA", seed=6)
    assert len(a) == 3 and all(t.startswith("Why") and len(t) == 33 for t in a)
    assert len(set(a)) > 1  # the rows of a batch draw differently
    both = generate_text(conditional, encoding, ["Why", "分开"], 5, label=["ABBA", "Jay"],
                         include_prime=False, method="gumbel")
    assert [len(t) for t in both] == [5, 5]
    with pytest.raises(UnknownCharactersError, match="'Q'") as info:
        generate_text(conditional, encoding, "Queen?", 5, label="ABBA")
    assert info.value.characters == ["Q", "?"]
    with pytest.raises(UnknownLabelError, match="'Nirvana'"):
        generate_text(conditional, encoding, "Why", 5, label="Nirvana")
    with pytest.raises(KerasMusicError, match="give label="):
        generate_text(conditional, encoding, "Why", 5)
    other = CharEncoding.fit(["abc"])
    with pytest.raises(VocabularyMismatchError):
        generate_text(conditional, other, "a", 5, label="ABBA")


def test_training_a_conditional_model_on_labelled_texts():
    corpus = TextCorpus(["la la la la land " * 6, "na na na na nah " * 6, "la la lalala " * 6],
                        labels=["la", "na", "la"])
    result = train_char_rnn(corpus, mode="random", seq_len=8, batch_size=4, rnn_units=8,
                            embed_size=4, dropout=0.1, epochs=3, validation_fraction=0.0,
                            verbose=0)
    assert result.encoding.labels.tokens == ["la", "na"] and result.best_epoch is None
    assert result.history["loss"][-1] < result.history["loss"][0]
    texts = generate_text(result.model, result.encoding, "", 12, label=["la", "na"],
                          stop_at_end=True)
    assert all(set(t) <= set(result.encoding.chars.tokens) for t in texts)


# The fixture model was compiled but never trained: Keras notes that its unbuilt optimizer
# has fewer variables than the rebuilt one. Harmless, and not about the char-RNN.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("suffix", [".keras", ".h5", ""])
def test_save_and_load_round_trip(conditional, encoding, tmp_path, suffix):
    path = tmp_path / f"lyrics{suffix}"
    save_model(conditional, path, encoding)
    ids = _ids(encoding.vocab_size, (2, 6))
    labels = np.ones_like(ids)
    expected = conditional([ids, labels]).numpy()
    assert load_encoding(path) == encoding
    if suffix:
        loaded = load_model(path)  # safe_mode=True: no code runs on load
        np.testing.assert_allclose(loaded([ids, labels]), expected, atol=1e-6)
        if suffix == ".keras":
            kwargs = dict(label="Jay", temperature=1.0, seed=3)
            assert generate_text(loaded, encoding, "分", 20, **kwargs) == \
                generate_text(conditional, encoding, "分", 20, **kwargs)
        with pytest.raises(VocabularyMismatchError):
            load_model(path, CharEncoding.fit(["abc"]))
    else:
        archive = tf.saved_model.load(str(path))
        served = archive.serve([ids, labels])
        np.testing.assert_allclose(served, expected, atol=1e-6)
        assert encoding_path(path) == path / "encoding.json"


def test_training_under_mirrored_strategy_equals_one_device_training():
    script = """
        import numpy as np, tensorflow as tf
        from kerasmusic.data.text import TextCorpus
        from kerasmusic.training.char_rnn import train_char_rnn
        rng = np.random.default_rng(3)
        docs = ["".join(rng.choice(list("abcde fg"), 400)) for _ in range(3)]
        corpus = TextCorpus(docs, labels=["x", "y", "x"])
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        runs = {}
        for mode in ("consecutive", "random"):
            for name, strategy in [("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                                   ("two", mirrored)]:
                # clipnorm 0.05 clips every step: only the clip of the summed gradient
                # gives the one-device step.
                r = train_char_rnn(corpus, mode=mode, seq_len=10, batch_size=6,
                                   embed_size=4, label_embed_size=2, rnn_units=6,
                                   epochs=2, clipnorm=0.05, validation_fraction=0.34,
                                   strategy=strategy, seed=1, verbose=0)
                runs[mode, name] = r
            one, two = runs[mode, "one"], runs[mode, "two"]
            np.testing.assert_allclose(one.history["loss"], two.history["loss"], rtol=1e-5)
            np.testing.assert_allclose(one.history["val_loss"], two.history["val_loss"],
                                       rtol=1e-5)
            for a, b in zip(one.model.get_weights(), two.model.get_weights()):
                np.testing.assert_allclose(a, b, atol=2e-5)
            print(mode, "EQUAL", one.history["loss"])
    """
    assert "random EQUAL" in run_on_two_cpus(script)


def test_training_stops_after_patience_epochs_without_a_better_validation():
    rng = np.random.default_rng(0)
    corpus = TextCorpus(["".join(rng.choice(list("abcd"), 300)) for _ in range(4)])
    # Random text: nothing to learn after the character frequencies; a high rate overfits.
    result = train_char_rnn(corpus, seq_len=10, batch_size=4, embed_size=4, rnn_units=32,
                            epochs=40, learning_rate=0.05, validation_fraction=0.25,
                            patience=2, seed=0, verbose=0)
    ppl = result.history["val_perplexity"]
    assert len(ppl) == result.best_epoch + 2 < 40
    assert min(ppl) == ppl[result.best_epoch - 1] < min(ppl[result.best_epoch:])
