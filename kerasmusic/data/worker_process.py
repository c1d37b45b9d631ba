"""Starting the worker processes that parse files in parallel (corpus loading, shards)."""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
# A worker imports this very kerasmusic (installed or not) as a bare package: its
# __init__, which loads TensorFlow, is skipped, so a worker starts in about a second.
# It runs in a fresh interpreter, so a user's script without an
# ``if __name__ == "__main__"`` guard is never re-imported.
_BOOTSTRAP = """
import importlib, sys, types
package = types.ModuleType("kerasmusic")
package.__path__ = [sys.argv[1]]
sys.modules["kerasmusic"] = package
module, function = sys.argv[2].split(":")
sys.argv = sys.argv[2:]
getattr(importlib.import_module(module), function)()
"""


def worker_command(entry: str, *args: str) -> list[str]:
    """The command line of a worker running ``entry`` ("module:function") with ``args``.

    The function reads its arguments from ``sys.argv[1:]``.
    """
    return [sys.executable, "-c", _BOOTSTRAP, str(_PACKAGE_DIR), entry, *args]
