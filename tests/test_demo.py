"""The attention LSTM on real bundled data: it learns, and the demo writes what it says."""

import re

import pytest

import kerasmusic as km
from kerasmusic.cli import main


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One parse cache for this module, so the chorales are parsed once."""
    path = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("KERASMUSIC_CACHE", str(path))
    yield path
    patch.undo()


def test_training_loss_falls_on_bundled_chorales(shared_cache):
    corpus = km.load_corpus("chorales", limit=40, progress=False)
    pieces = [km.normalize_key(p) for p in corpus.pieces]
    result = km.train_note_lstm(pieces, tracks=[0], embed_size=16, rnn_units=32, epochs=3,
                                learning_rate=0.003, seed=0, verbose=0, transpose=None)
    loss = result.history["loss"]
    assert loss[-1] < loss[0] - 0.1, loss
    assert result.history["val_loss"][-1] < result.initial_val_loss - 1.0


@pytest.mark.slow
def test_the_demo_recipe_ends_below_its_own_bigram_on_held_out_chorales(shared_cache):
    # All 350 chorales (parsed once, ~30 s), the demo's model, a fixed 10 epochs (the
    # 100-s demo reaches the bigram at epoch 8 and gets ~30).
    pieces = [km.normalize_key(p) for p in km.load_corpus("chorales", progress=False).pieces]
    result = km.train_note_lstm(pieces, tracks=[0], seq_len=8, embed_size=32, rnn_units=64,
                                epochs=10, learning_rate=0.003, dropout=0.2, seed=0,
                                verbose=0, transpose=None, patience=None)
    report = result.quality
    assert report.beats_bigram, report.table()
    assert report["pitch"].model < report["pitch"].bigram < report["pitch"].unigram


def test_demo_learns_and_writes_midi(tmp_path, shared_cache, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--pieces", "40", "--epochs", "3",
                 "--max-seconds", "90"])
    printed = capsys.readouterr().out
    assert code == 0
    untrained, _, best = map(float, re.search(
        r"validation loss: ([\d.]+) untrained, ([\d.]+) after epoch 1, best ([\d.]+)",
        printed).groups())
    assert best < untrained - 1.0, printed
    assert "held-out quality: attention LSTM" in printed
    for name in ("model.keras", "model.encoding.json", "loss.png", "demo.mid", "demo.png"):
        assert (out / name).exists(), name
        assert str(out / name) in printed
    piece = km.read_midi(out / "demo.mid")
    assert len(piece.notes) >= 8
    assert km.load_model(out / "model.keras").name == "attention_lstm"


@pytest.mark.slow
def test_full_demo_validation_loss_ends_clearly_below_the_first_epoch(tmp_path, capsys):
    """The README's demo as a user runs it (all chorales, ~3 minutes on 2 cores)."""
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    _, first, best = map(float, re.search(
        r"validation loss: ([\d.]+) untrained, ([\d.]+) after epoch 1, best ([\d.]+)",
        printed).groups())
    assert best < first - 0.2, printed
    assert "The model beats the bigram on every stream." in printed, printed
