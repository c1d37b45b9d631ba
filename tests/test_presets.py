"""The trained models shipped in the package: listed, loaded with safe_mode, generating."""

import pytest

import kerasmusic as km
from kerasmusic.cli import main

NAMES = ["chorale-soprano-lstm", "chorale-lyrics-charrnn"]


def test_every_preset_is_installed_small_and_beats_its_bigram():
    assert [p.name for p in km.presets()] == NAMES
    for preset in km.presets():
        assert preset.path.stat().st_size < 5e6  # ships inside the wheel
        report = preset.quality()
        assert report.beats_bigram, report.table()


def test_soprano_preset_loads_with_safe_mode_and_generates_melodies():
    model, encoding = km.load_preset("chorale-soprano-lstm")
    assert isinstance(encoding, km.NoteDurationEncoding)
    pieces = km.generate(model, encoding, n_events=24, n_pieces=2, seed=3)
    assert len(pieces) == 2 and all(len(p.notes) > 0 for p in pieces)
    again = km.generate(model, encoding, n_events=24, n_pieces=2, seed=3)
    assert [n.pitch for n in again[0].notes] == [n.pitch for n in pieces[0].notes]


def test_lyrics_preset_writes_german_looking_text():
    model, encoding = km.load_preset("chorale-lyrics-charrnn")
    text = km.generate_text(model, encoding, "Ach Gott", n_chars=60, seed=0)[0]
    assert text.startswith("Ach Gott") and len(text) == 68


def test_an_unknown_preset_names_the_ones_there_are():
    with pytest.raises(km.KerasMusicError, match="chorale-soprano-lstm"):
        km.load_preset("mozart")


def test_cli_lists_presets_and_generates_from_one(tmp_path, capsys):
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in NAMES) and "bigram" in listed
    out = tmp_path / "melody.mid"
    assert main(["generate", "--preset", "chorale-soprano-lstm", "--out", str(out),
                 "--n-events", "16"]) == 0
    assert km.read_midi(out).notes and f"wrote {out}" in capsys.readouterr().out
    assert main(["generate", "--preset", "chorale-lyrics-charrnn", "--prime", "Gott",
                 "--n-chars", "20"]) == 0
    assert capsys.readouterr().out.startswith("Gott")
    with pytest.raises(SystemExit) as usage:  # a usage error, found before TensorFlow loads
        main(["generate", "--model", str(out), "--preset", "chorale-soprano-lstm"])
    assert usage.value.code == 2 and "--model FILE or --preset NAME" in capsys.readouterr().err
