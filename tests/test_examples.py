"""Example scripts run as they are (their --quick mode)."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_attention_lstm_example_quick(tmp_path, cache_dir):
    out = tmp_path / "out"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run([sys.executable, str(EXAMPLES / "attention_lstm.py"), "--quick",
                          "--out", str(out)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "wrote 3 MIDI files" in run.stdout
    for name in ("melody_0.mid", "melody_1.mid", "melody_2.mid", "melody_0.png",
                 "melody_0.musicxml", "chorale_lstm.keras", "loss.png"):
        assert (out / name).exists(), name
