"""TensorFlow's environment, set before TensorFlow is imported (no TensorFlow import here).

The library asks for the TensorFlow backend and hides TensorFlow's C++ INFO lines;
the command line also hides its warnings and the start-up lines a CPU-only machine
prints on every run (``absl::InitializeLog``, ``cudart_stub``, oneDNN, ``cuInit``),
unless ``--verbose`` is given. A value the user set in the environment always wins.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
# What the user set, read before kerasmusic sets anything.
USER_LOG_LEVEL = os.environ.get(LOG_LEVEL)

# Lines TensorFlow's C++ code writes to stderr while it loads: the absl notice,
# INFO / WARNING records (CUDA stubs, oneDNN, CPU features, factory registration) and
# the CUDA errors of a machine without a GPU driver.
_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} "
                    r"|E\d{4} .*(cuInit|cuda_|cudart|cuDNN|cuFFT|cuBLAS)"
                    r"|To enable the following instructions: )")


def library_defaults() -> None:
    """The environment ``import kerasmusic`` sets: Keras on TensorFlow, C++ INFO lines hidden."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault(LOG_LEVEL, "1")


def command_line_defaults(verbose: bool) -> None:
    """The command line's log level: every C++ message with ``verbose``, none without.

    Takes effect only if TensorFlow was not imported yet; the user's own
    ``TF_CPP_MIN_LOG_LEVEL`` wins.
    """
    library_defaults()
    if USER_LOG_LEVEL is None:
        os.environ[LOG_LEVEL] = "0" if verbose else "3"


def import_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow; unless ``verbose``, drop the start-up lines it writes to stderr.

    Those lines come from C++ before TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL``, so the
    only way to hide them is to catch file descriptor 2 during the import. Every other
    line (a real error, say) is written back.
    """
    if "tensorflow" in sys.modules:
        return
    if verbose:
        import tensorflow  # noqa: F401
        return
    with _stderr_filtered():
        import tensorflow  # noqa: F401


@contextlib.contextmanager
def _stderr_filtered():
    """Catch what is written to file descriptor 2; write back the lines that are not noise."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to catch
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not _NOISE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
