"""The command line as a user meets it before anything runs: help screens, --version,
usage errors. None of it may import TensorFlow (checked in a fresh Python)."""

import argparse
import json
import os
import subprocess
import sys
import textwrap

import pytest
from builders import HANG_LIMIT

from kerasmusic import __version__, tf_environment
from kerasmusic.cli_parser import FAMILIES, parser

# Each argv, run in one fresh Python; its output and exit status are checked below.
ARGVS = {
    "help": ["--help"], "version": ["--version"], "train": ["train", "--help"],
    **{f"train {f}": ["train", f, "--help"] for f in FAMILIES},
    "generate": ["generate", "--help"], "generate midi": ["generate", "midi", "--help"],
    "generate charrnn": ["generate", "charrnn", "--help"], "shard": ["shard", "--help"],
    "evaluate": ["evaluate", "--help"], "presets": ["presets", "--help"],
    "demo": ["demo", "--help"],
    "epochs": ["train", "lstm", "--corpus", "chorales", "--out", "m.keras", "--epochs", "-1"],
    "n-events": ["generate", "--model", "m.keras", "--n-events", "0"],
    "min-events": ["generate", "--model", "m.keras", "--n-events", "8", "--min-events", "9"],
    "midi-dir": ["train", "lstm", "--midi-dir", "no/such/folder", "--out", "m.keras"],
    "top-p": ["generate", "charrnn", "--model", "m.keras", "--top-p", "1.5"],
    "learning-rate": ["train", "events", "--corpus", "chorales", "--out", "m.keras",
                      "--learning-rate", "0"],
    "learning-rate inf": ["train", "lstm", "--corpus", "chorales", "--out", "m.keras",
                          "--learning-rate", "inf"],
}


@pytest.fixture(scope="module")
def screens(tmp_path_factory):
    """{name: (exit status, stdout, stderr)} of every ARGVS entry, and the modules loaded."""
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys
        from kerasmusic.cli import main
        out = {{}}
        for name, argv in {ARGVS!r}.items():
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                try:
                    status = main(argv)
                except SystemExit as exc:
                    status = exc.code
            out[name] = [status, stdout.getvalue(), stderr.getvalue()]
        heavy = [m for m in ("tensorflow", "keras", "music21", "matplotlib") if m in sys.modules]
        print(json.dumps({{"screens": out, "heavy": heavy}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=HANG_LIMIT, cwd=tmp_path_factory.mktemp("cli"))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["heavy"] == [], "help and usage errors must not import " + str(result["heavy"])
    return result["screens"]


def test_help_screens_answer_without_tensorflow(screens):
    for name in ARGVS:
        status, stdout, stderr = screens[name]
        if name in ("epochs", "n-events", "min-events", "midi-dir", "top-p", "learning-rate",
                    "learning-rate inf"):
            continue
        assert status == 0 and stdout and stderr == "", name
    assert screens["version"][1].strip() == f"kerasmusic {__version__}"


def test_train_help_lists_every_family_with_a_line():
    out = screens_text(["train", "--help"])
    for family, line in FAMILIES.items():
        assert family in out and " ".join(line.split()[:3]) in " ".join(out.split())


def test_generate_charrnn_has_its_own_screen(screens):
    charrnn, midi = screens["generate charrnn"][1], screens["generate midi"][1]
    assert "--prime TEXT" in charrnn and "--n-chars" in charrnn and "--n-events" not in charrnn
    assert "--n-events" in midi and "--min-events" in midi and "--prime TEXT" not in midi
    assert "--min-events" in screens["generate"][1] and "--prime TEXT" in screens["generate"][1]
    assert charrnn.startswith("usage: kerasmusic generate charrnn")


def test_usage_errors_name_the_flag(screens):
    expected = {"epochs": "argument --epochs: must be at least 1, got -1",
                "n-events": "argument --n-events: must be at least 1, got 0",
                "min-events": "--min-events (9) cannot exceed --n-events (8)",
                "midi-dir": "argument --midi-dir: folder does not exist: no/such/folder",
                "top-p": "argument --top-p: must be in (0, 1], got 1.5",
                "learning-rate": "argument --learning-rate: must be greater than 0, got 0",
                "learning-rate inf":
                    "argument --learning-rate: must be a finite number greater than 0, got inf"}
    for name, message in expected.items():
        status, _, stderr = screens[name]
        assert status == 2 and stderr.splitlines()[-1].endswith(message), (name, stderr)
        assert "n_events" not in stderr and "nottingham" not in stderr


def _parsers(p: argparse.ArgumentParser, path=()):
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def screens_text(argv) -> str:
    for path, p in _parsers(parser()):
        if list(path) == argv[:-1]:
            return p.format_help()
    raise AssertionError(argv)


def test_every_option_has_help_with_its_default():
    for path, p in _parsers(parser()):
        assert p.description, path
        formatter = p._get_formatter()
        chosen = {a for g in p._mutually_exclusive_groups if g.required for a in g._group_actions}
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction,
                                   argparse._SubParsersAction)):
                continue
            assert action.help, (path, action.dest)
            text = formatter._expand_help(action)
            flag = isinstance(action, argparse._StoreTrueAction)
            if action.option_strings and not (flag or action.required or action in chosen):
                assert "default" in text, (path, action.dest, text)


def test_verbose_brings_tensorflow_messages_back(monkeypatch):
    monkeypatch.setattr(tf_environment, "USER_LOG_LEVEL", None)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    tf_environment.command_line_defaults(verbose=True)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    tf_environment.command_line_defaults(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    monkeypatch.setattr(tf_environment, "USER_LOG_LEVEL", "2")  # the user's own setting wins
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    tf_environment.command_line_defaults(verbose=True)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_a_run_prints_no_tensorflow_start_up_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = tmp_path / "g.mid"
    run = subprocess.run([sys.executable, "-m", "kerasmusic", "generate", "--preset",
                          "chorale-soprano-lstm", "--n-events", "24", "--no-stop", "--out",
                          str(out)], capture_output=True, text=True, env=env,
                         timeout=HANG_LIMIT)
    assert run.returncode == 0, run.stderr[-3000:]
    for noise in ("absl::InitializeLog", "cudart_stub", "cuInit", "oneDNN"):
        assert noise not in run.stderr, run.stderr
    assert run.stdout.strip() == f"wrote {out} (24 events)"
