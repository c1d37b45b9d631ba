"""Example scripts run as they are (their --quick mode)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from builders import HANG_LIMIT

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run_quick(script: str, out: Path) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=HANG_LIMIT)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


@pytest.mark.slow  # the demo test covers the same path in-process
def test_attention_lstm_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    assert "wrote 3 MIDI files" in _run_quick("attention_lstm.py", out)
    for name in ("melody_0.mid", "melody_1.mid", "melody_2.mid", "melody_0.png",
                 "melody_0.musicxml", "chorale_lstm.keras", "loss.png"):
        assert (out / name).exists(), name


@pytest.mark.slow
def test_crnngan_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    stdout = _run_quick("crnngan.py", out)
    table = [line.split() for line in stdout.splitlines()
             if line.split() and line.split()[0] in ("real", "baseline", "gan")]
    assert [row[0] for row in table] == ["real", "baseline", "gan"]
    assert all(len(row) == 7 for row in table)
    assert len(list(out.glob("gan_*.mid"))) == 4 and len(list(out.glob("baseline_*.mid"))) == 4


@pytest.mark.slow
def test_musegan_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    stdout = _run_quick("musegan.py", out)
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["track", "QN"])
    assert lines[header].split() == ["track", "QN", "UPC", "EB", "polyphony"]
    rows = [lines[header + 1 + k].split() for k in range(4)]
    assert [r[:2] for r in rows] == [["track", str(k)] for k in range(4)]
    # real / generated per metric; chorale voices sing one note at a time, mostly long
    # notes, and the monophonic decoding keeps one pitch per voice
    for row in rows:
        qn_real, poly_real, poly_generated = float(row[2]), float(row[-3]), float(row[-1])
        assert qn_real > 0.5 and poly_real < 0.01 and poly_generated == 0.0
    assert any(line.startswith("  targets:") for line in lines)
    read_back = next(line for line in lines if line.startswith("sample_0.mid read back:"))
    assert read_back.count("notes") == 4
    for name in ("sample_0.mid", "sample_3.mid", "generated.png", "real.png", "losses.png",
                 "generator.keras", "samples"):
        assert (out / name).exists(), name


def _validation_loss(stdout: str) -> tuple[float, float]:
    line = next(line for line in stdout.splitlines() if line.startswith("validation loss:"))
    numbers = [float(n) for n in re.findall(r"\d+\.\d+", line)]
    return numbers[0], numbers[1]


@pytest.mark.slow  # test_cli trains and samples it; test_pianoroll_rnn the loss on tunes
def test_pianoroll_rnn_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    stdout = _run_quick("pianoroll_rnn.py", out)
    untrained, trained = _validation_loss(stdout)
    assert trained < untrained
    assert "held-out quality: piano-roll RNN" in stdout and "nats/frame" in stdout
    assert "wrote 3 MIDI files" in stdout and len(list(out.glob("*.mid"))) == 3


@pytest.mark.slow  # test_cli trains and samples the event LSTM; test_event_lstm the loss on tunes
def test_event_lstm_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    stdout = _run_quick("event_lstm.py", out)
    untrained, trained = _validation_loss(stdout)
    assert trained < untrained
    assert "held-out quality: event LSTM" in stdout
    assert "wrote 3 MIDI files" in stdout and len(list(out.glob("*.mid"))) == 3


@pytest.mark.slow  # test_char_rnn beats the bigram on the lyrics in-process; test_cli trains
def test_char_rnn_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    stdout = _run_quick("char_rnn.py", out)
    line = next(line for line in stdout.splitlines()
                if line.startswith("validation perplexity: char-RNN"))
    char_rnn, bigram = (float(n) for n in re.findall(r"\d+\.\d+", line)[:2])
    assert char_rnn < bigram  # beats the character-bigram baseline on held-out lyrics
    assert "reloaded model generates the same text: True" in stdout
    for name in ("char_rnn.keras", "loss.png", "samples.txt", "history.json"):
        assert (out / name).exists(), name


@pytest.mark.slow  # test_music_transformer trains, reports and generates in-process
def test_music_transformer_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    stdout = _run_quick("music_transformer.py", out)
    untrained, trained = _validation_loss(stdout)
    assert trained < untrained
    assert "held-out quality: Music Transformer" in stdout
    assert stdout.count("read back:") == 3 and "wrote 3 MIDI files" in stdout
    for name in ("continuation_0.mid", "continuation_0.png", "music_transformer.keras",
                 "loss.png"):
        assert (out / name).exists(), name
