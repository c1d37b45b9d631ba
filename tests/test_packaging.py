"""The source distribution can run its own tests, and carries the package's metadata."""

import configparser
import email
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
from builders import HANG_LIMIT

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> tarfile.TarFile:
    """The sdist built from this checkout (with the installed setuptools: seconds)."""
    if not (ROOT / "setup.cfg").exists():
        pytest.skip("not a source checkout")
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                          "--skip-dependency-check", "--outdir", str(out), str(ROOT)],
                         capture_output=True, text=True, timeout=HANG_LIMIT)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return tarfile.open(next(out.glob("kerasmusic-*.tar.gz")))


def _names(sdist) -> set[str]:
    return {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}


def test_sdist_ships_what_the_tests_read(sdist):
    names = _names(sdist)
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("*.py")}
    assert tests <= names, sorted(tests - names)  # conftest.py and builders.py included
    examples = {p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*.py")}
    assert examples <= names  # test_examples runs them
    assert {"LICENSE", "README.md", "pyproject.toml", "setup.cfg", "MANIFEST.in"} <= names
    assert any(n.startswith("kerasmusic/preset_models/") for n in names)
    assert not any("__pycache__" in n for n in names)


def test_sdist_metadata(sdist):
    member = next(m for m in sdist.getmembers() if m.name.count("/") == 1
                  and m.name.endswith("/PKG-INFO"))
    info = email.message_from_bytes(sdist.extractfile(member).read())
    from kerasmusic import __version__

    assert info["Version"] == __version__
    assert info["Author"] and info["Description-Content-Type"] == "text/markdown"
    assert len(info.get_all("Project-URL") or []) >= 2
    assert "Apache-2.0" in (info["License"] or info["License-Expression"] or "")
    assert info.get_payload().lstrip().startswith("# kerasmusic")  # the README


def test_license_is_the_apache_2_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) > 190


def test_docs_need_mkdocs_not_tensorflow():
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    assert any(req.startswith("mkdocs") for req in groups["docs"])
    assert not any("tensorflow" in req for req in groups["docs"])
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extras = config["options.extras_require"]
    assert "docs" not in extras  # an extra installs the package, TensorFlow with it
    assert {"build", "twine"} <= {line.split(">")[0].strip()
                                  for line in extras["test"].split("\n") if line.strip()}
    assert "site/" in (ROOT / ".gitignore").read_text().split()
