"""The documentation says what happens: every page listed, no unmeasured durations."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_readme_lists_every_docs_page_on_a_line_of_its_own():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert DOCS
    for page in DOCS:
        entries = [line for line in lines if line.startswith(f"- `docs/{page.name}`: ")]
        assert len(entries) == 1, page.name


def test_mkdocs_nav_has_every_page():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOCS:
        assert re.search(rf":\s+{re.escape(page.name)}\s*$", nav, re.M), page.name


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_durations_are_measured_figures(script):
    """A duration in an example's header comes with the machine and the command."""
    header = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    text = script.read_text(encoding="utf-8")
    assert "well under a minute" not in text and "30-second" not in text
    quick = re.search(r"`--quick`[^.]*\btook\s+\d+\s+s\b", header)
    assert quick, "state the measured --quick time: '`--quick` ... took N s on ...'"
    assert "2-core" in header and f"python examples/{script.name} --quick" in header
