"""The command line on a user's own MIDI folder: train, then generate."""

import json
import math
from fractions import Fraction

import pytest
from builders import make_piece, make_track

import kerasmusic as km
from kerasmusic.cli import main


@pytest.fixture
def midi_dir(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    for i in range(4):
        notes = [(scale[(j + i) % 8], j, 1) for j in range(24)] + [(48, 24, 2), (52, 24, 2)]
        km.write_midi(make_piece(notes), folder / f"song{i}.mid")
    (folder / "broken.mid").write_text("not midi")
    return folder


def test_train_then_generate(tmp_path, midi_dir, cache_dir, capsys):
    model = tmp_path / "runs" / "m.keras"
    assert main(["train", "lstm", "--midi-dir", str(midi_dir), "--out", str(model),
                 "--seq-len", "8", "--embed-size", "4", "--rnn-units", "8", "--epochs", "1"]) == 0
    assert model.exists() and km.encoding_path(model).exists()
    printed = capsys.readouterr().out
    assert "4 pieces loaded, 1 unreadable" in printed
    assert "held-out quality: attention LSTM, 1 held-out piece" in printed
    report = km.QualityReport.load(km.quality_path(model))
    assert [s.name for s in report.streams] == ["pitch", "duration"]
    # The same report later, from the saved model and the folder it was trained on.
    assert main(["evaluate", "--model", str(model), "--corpus", str(midi_dir)]) == 0
    assert f"pitch     {report['pitch'].model:.3f}" in capsys.readouterr().out
    assert main(["evaluate", "--model", str(model)]) == 2
    assert "needs --corpus" in capsys.readouterr().err

    out = tmp_path / "gen" / "g.mid"
    assert main(["generate", "--model", str(model), "--out", str(out), "--n-events", "16",
                 "--n-pieces", "2", "--temperature", "1.0", "--primer",
                 str(midi_dir / "song0.mid"), "--png", "--musicxml"]) == 0
    for name in ("g_0.mid", "g_1.mid", "g_0.png", "g_0.musicxml"):
        assert (out.parent / name).exists(), name
    primer = km.read_midi(midi_dir / "song0.mid").notes
    generated = km.read_midi(out.parent / "g_0.mid").notes
    assert [n.pitch for n in generated[:10]] == [n.pitch for n in primer[:10]]


def test_train_transformer_then_generate_and_evaluate(tmp_path, midi_dir, cache_dir, capsys):
    model = tmp_path / "run" / "model.keras"
    assert main(["train", "transformer", "--midi-dir", str(midi_dir), "--out", str(model),
                 "--seq-len", "8", "--layers", "1", "--d-model", "8", "--heads", "2",
                 "--epochs", "2", "--batch-size", "4", "--warmup-steps", "2",
                 "--checkpoint-dir", str(tmp_path / "backup")]) == 0
    printed = capsys.readouterr().out
    assert "held-out quality: Music Transformer, 1 held-out piece" in printed
    report = km.QualityReport.load(km.quality_path(model))
    assert main(["evaluate", "--model", str(model), "--corpus", str(midi_dir)]) == 0
    assert f"pitch     {report['pitch'].model:.3f}" in capsys.readouterr().out
    out = tmp_path / "g.mid"
    assert main(["generate", "--model", str(model), "--out", str(out), "--n-events", "12",
                 "--no-stop", "--seed", "3"]) == 0
    assert km.read_midi(out).notes


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["generate", "--model", str(tmp_path / "missing.keras")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasmusic: error:") and "missing.keras" in err
    assert main(["train", "lstm", "--corpus", "nope", "--out", str(tmp_path / "m.keras")]) == 2


def test_savedmodel_output_from_train(tmp_path, midi_dir, cache_dir):
    out = tmp_path / "sm"
    assert main(["train", "lstm", "--midi-dir", str(midi_dir), "--out", str(out),
                 "--seq-len", "8", "--embed-size", "4", "--rnn-units", "8", "--epochs", "1",
                 "--tracks", "0"]) == 0
    assert (out / "saved_model.pb").exists() and (out / "encoding.json").exists()


def test_evaluate_prints_a_row_per_folder(midi_dir, cache_dir, capsys):
    assert main(["evaluate", str(midi_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["polyphony", "scale_consistency", "repetitions", "tone_span",
                                "unique_tones", "intensity_span"]
    name, *values = lines[1].split()
    assert name == "midi" and values[0] == "(4)"
    # every song: 24 scale notes + a 2-note chord: polyphony 2/26, all in C major
    assert float(values[1]) == round(2 / 26, 3) and float(values[2]) == 1.0


def test_train_crnngan_writes_generator_and_samples(tmp_path, midi_dir, cache_dir, capsys):
    out = tmp_path / "gan"
    assert main(["train", "crnngan", "--midi-dir", str(midi_dir), "--out", str(out),
                 "--seq-len", "8", "--batch-size", "4", "--steps-per-epoch", "2",
                 "--epochs", "2", "--pretrain-epochs", "2", "--units", "8",
                 "--samples", "2"]) == 0
    for name in ("generator.keras", "generator.encoding.json", "losses.png", "sample_0.mid",
                 "sample_1.mid"):
        assert (out / name).exists(), name
    assert list((out / "checkpoints").glob("ckpt-2*"))
    generator = km.load_model(out / "generator.keras")
    assert isinstance(km.load_encoding(out / "generator.keras"), km.ToneEncoding)
    assert generator.output.shape[-1] == 4
    assert "epoch 2/2" in capsys.readouterr().out


def test_train_crnngan_passes_the_recipe_flags(tmp_path, midi_dir, cache_dir, monkeypatch):
    import kerasmusic.training.crnngan as crnngan

    class Stop(Exception):
        pass

    def capture(pieces, **kwargs):
        raise Stop(kwargs["config"])

    monkeypatch.setattr(crnngan, "train_crnngan", capture)
    with pytest.raises(Stop) as stop:
        main(["train", "crnngan", "--midi-dir", str(midi_dir), "--out", str(tmp_path / "g"),
              "--no-feature-matching", "--gan-learning-rate", "1e-4", "--units", "8"])
    config = stop.value.args[0]
    assert (config.feature_matching, config.units) == (False, 8)
    assert config.g_learning_rate == config.d_learning_rate == 1e-4


@pytest.fixture
def band_dir(tmp_path):
    """Multi-track MIDI files: a melody (flute), a bass and drums."""
    folder = tmp_path / "band"
    folder.mkdir()
    for i in range(4):
        melody = make_track([(60 + (i + j) % 12, j, 1) for j in range(16)], name="Flute",
                            program=73)
        bass = make_track([(48 + (i * j) % 7, j, 2) for j in range(0, 16, 2)], name="Bass",
                          program=33)
        drums = make_track([(36 + 2 * (j % 2), j / 2, Fraction(1, 4)) for j in range(32)],
                           name="Kit", is_drum=True)
        km.write_midi(make_piece(melody, drums, bass), folder / f"band{i}.mid")
    return folder


def test_train_musegan_then_evaluate_multitrack(tmp_path, band_dir, cache_dir, capsys):
    out = tmp_path / "musegan"
    assert main(["train", "musegan", "--midi-dir", str(band_dir), "--out", str(out),
                 "--tracks", "name:flute,program:32-39,drums", "--n-pitches", "36",
                 "--lowest-pitch", "36", "--steps-per-bar", "8", "--z-dim", "4",
                 "--batch-size", "8", "--epochs", "2", "--critic-steps", "2",
                 "--samples", "2", "--sample-every", "2", "--monophonic",
                 "--eval-phrases", "16"]) == 0
    for name in ("generator.keras", "generator.encoding.json", "losses.png", "samples.png",
                 "sample_0.mid", "sample_1.mid", "samples/epoch_002.png",
                 "samples/epoch_002_0.mid", "quality.json"):
        assert (out / name).exists(), name
    quality = json.loads((out / "quality.json").read_text())
    assert quality["n_generated"] == 16 and set(quality["targets"]) == {
        "QN", "UPC", "EB", "polyphony"}
    # one voice per melodic track: the generated flute and bass never sound a chord
    assert all(v == 0 or math.isnan(v) for v in quality["generated"]["polyphony"][:2])
    assert list((out / "checkpoints").glob("ckpt-2*")) and list((out / "logs").iterdir())
    encoding = km.load_encoding(out / "generator.keras")
    assert encoding.shape == (2, 8, 36, 3) and encoding.drums == [False, False, True]
    assert km.load_model(out / "generator.keras").output.shape[1:] == (2, 8, 36, 3)
    printed = capsys.readouterr().out
    assert "epoch 2/2" in printed and "wasserstein" in printed
    assert "generated (16 phrases) vs real" in printed

    # a longer piece from the saved generator: 7 bars = 4 chained 2-bar phrases, cut
    long_mid = tmp_path / "long.mid"
    assert main(["generate", "--model", str(out / "generator.keras"), "--bars", "7",
                 "--out", str(long_mid), "--seed", "3"]) == 0
    piece = km.read_midi(long_mid)
    assert len(piece.tracks) == 3 and piece.tracks[2].is_drum
    assert max(n.end for t in piece.tracks for n in t.notes) <= 7 * 8 / 4  # 7 bars of 8 16ths

    assert main(["evaluate", str(band_dir), "--tracks", "0,2,1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("MuseGAN metrics (means over tracks; TD over track pairs):")
    assert lines[start + 1].split() == ["EB", "UPC", "QN", "polyphony", "TD", "DP"]
    row = lines[start + 2].split()
    assert row[:3] == ["band", "(4)", "[8"]  # 4 files x 4 bars of 4/4, 2-bar phrases
    eb, dp = float(row[4]), float(row[-1])
    assert eb == 0.0 and dp == 1.0  # no empty bar; every drum onset on the 8th grid


def test_train_an_accompaniment_musegan_then_accompany_a_melody_file(tmp_path, band_dir,
                                                                     cache_dir, capsys):
    out = tmp_path / "accompany"
    assert main(["train", "musegan", "--midi-dir", str(band_dir), "--out", str(out),
                 "--tracks", "name:flute,program:32-39", "--condition-tracks", "0",
                 "--n-pitches", "36", "--lowest-pitch", "36", "--steps-per-bar", "8",
                 "--z-dim", "4", "--batch-size", "8", "--epochs", "1", "--critic-steps", "2",
                 "--samples", "2", "--monophonic", "--eval-phrases", "8"]) == 0
    printed = capsys.readouterr().out
    assert "generated (8 phrases) vs real" in printed
    # the user's melody: 5 bars of 8 steps (4/4 in eighths: 10 quarters), flute on track 1
    melody = make_track([(62 + j % 5, Fraction(j, 2), Fraction(1, 2)) for j in range(20)],
                        name="Lead")
    km.write_midi(make_piece(make_track([(40, 0, 1)], name="Other"), melody),
                  tmp_path / "melody.mid")
    model = str(out / "generator.keras")
    assert main(["generate", "--model", model, "--condition", str(tmp_path / "melody.mid"),
                 "--track", "1", "--out", str(tmp_path / "with_bass.mid")]) == 0
    piece = km.read_midi(tmp_path / "with_bass.mid")
    given = [(n.start, n.pitch) for n in sorted(piece.tracks[0].notes)]
    assert given == [(Fraction(j, 2), 62 + j % 5) for j in range(20)]  # the melody, as given
    assert main(["generate", "--model", model, "--out", str(tmp_path / "x.mid")]) == 2
    assert "--condition FILE --track N" in capsys.readouterr().err


def test_shard_a_midi_folder_then_train_musegan_on_the_shards(tmp_path, band_dir, capsys):
    shards, out = tmp_path / "shards", tmp_path / "run"
    (band_dir / "broken.mid").write_bytes(b"MThd garbage")
    assert main(["shard", str(band_dir), str(shards), "--tracks", "name:flute,drums",
                 "--n-pitches", "36", "--lowest-pitch", "36", "--steps-per-bar", "8",
                 "--examples-per-shard", "3", "--workers", "1"]) == 0
    printed = capsys.readouterr()
    assert "28 phrases in 10 shard(s)" in printed.out and "1 unreadable" in printed.out
    assert "broken.mid" in printed.err
    assert main(["train", "musegan", "--shards", str(shards), "--out", str(out),
                 "--z-dim", "4", "--batch-size", "4", "--epochs", "1", "--critic-steps", "2",
                 "--samples", "1", "--n-pitches", "48", "--onset-stream"]) == 0
    printed = capsys.readouterr()
    assert "28 phrases of shape (2, 8, 36, 2)" in printed.out
    assert "(with the onset stream)" in printed.out
    assert "--n-pitches ignored" in printed.err
    encoding = km.load_encoding(out / "generator.keras")
    assert encoding.shape == (2, 8, 36, 2) and encoding.drums == [False, True]
    assert (out / "sample_0.mid").exists()


def test_evaluate_skips_muse_metrics_for_single_tracks(midi_dir, cache_dir, capsys):
    assert main(["evaluate", str(midi_dir)]) == 0
    assert "single-track pieces: no MuseGAN metrics" in capsys.readouterr().out


@pytest.mark.parametrize("model, options", [
    ("pianoroll", ["--seq-len", "8", "--units", "8", "--layers", "1", "--output", "nade",
                   "--joint-units", "4", "--frame-rule", "sample", "--step", "1/2"]),
    ("events", ["--seq-len", "6", "--units", "8"]),
])
def test_train_then_generate_pianoroll_and_event_models(model, options, tmp_path, midi_dir,
                                                        cache_dir, capsys):
    path = tmp_path / f"{model}.keras"
    assert main(["train", model, "--midi-dir", str(midi_dir), "--out", str(path),
                 "--epochs", "2", "--batch-size", "4", *options]) == 0
    printed = capsys.readouterr().out
    assert "validation loss:" in printed and path.exists()
    report = km.QualityReport.load(km.quality_path(path))
    streams = {"pianoroll": ["frames"], "events": ["note", "velocity", "time"]}[model]
    assert [s.name for s in report.streams] == streams
    assert f"held-out quality: {report.model}" in printed
    assert main(["evaluate", "--model", str(path), "--corpus", str(midi_dir)]) == 0
    assert f"{report.streams[0].model:.3f}" in capsys.readouterr().out  # the same figure
    out = tmp_path / "gen.mid"
    assert main(["generate", "--model", str(path), "--out", str(out), "--n-events", "16",
                 "--primer", str(midi_dir / "song0.mid"), "--n-pieces", "2"]) == 0
    for i in range(2):
        piece = km.read_midi(out.with_name(f"gen_{i}.mid"))
        assert piece.notes  # the primer's notes at least, plus what was generated


def test_event_model_without_primer_is_a_clear_error(tmp_path, midi_dir, cache_dir, capsys):
    path = tmp_path / "events.keras"
    assert main(["train", "events", "--midi-dir", str(midi_dir), "--out", str(path),
                 "--epochs", "1", "--batch-size", "4", "--seq-len", "6", "--units", "4"]) == 0
    capsys.readouterr()
    assert main(["generate", "--model", str(path), "--out", str(tmp_path / "g.mid")]) == 2
    assert "pass --primer FILE" in capsys.readouterr().err


def test_train_then_generate_charrnn(tmp_path, capsys):
    text = tmp_path / "lyrics.txt"
    text.write_text("why do the birds sing? why do the stars shine? " * 40, encoding="utf-8")
    out = tmp_path / "chars"
    assert main(["train", "charrnn", "--text", str(text), "--out", str(out), "--epochs", "2",
                 "--seq-len", "16", "--batch-size", "4", "--units", "16"]) == 0
    printed = capsys.readouterr().out
    assert "best validation perplexity" in printed and "character bigram" in printed
    assert "held-out quality: char-RNN" in printed and (out / "char_rnn.quality.json").exists()
    model = next(out.glob("*.keras"))
    assert main(["evaluate", "--model", str(model), "--corpus", str(text), "--seq-len", "16",
                 "--batch-size", "4"]) == 0
    saved = km.QualityReport.load(out / "char_rnn.quality.json")["characters"]
    assert f"characters  {saved.model:.3f}" in capsys.readouterr().out
    assert main(["generate", "charrnn", "--model", str(model), "--prime", "Why",
                 "--n-chars", "30", "--temperature", "0.5", "--n-pieces", "2"]) == 2
    assert "'W'" in capsys.readouterr().err  # 'W' never occurs in the lowercase text
    assert main(["generate", "charrnn", "--model", str(model), "--prime", "why",
                 "--n-chars", "30", "--temperature", "0"]) == 0
    generated = capsys.readouterr().out
    assert generated.startswith("why") and len(generated) == 33 + 1  # print's newline
    assert main(["generate", "midi", "--model", str(model)]) == 2
