"""Tiny builders for test data (in the spirit of note-seq's testing_lib)."""

from __future__ import annotations

from fractions import Fraction

from kerasmusic.data.notes import Note, Piece, Track


def make_track(notes, name="", program=0, is_drum=False) -> Track:
    """``notes``: iterable of (pitch, start, duration[, velocity]); times in quarters."""
    out = []
    for n in notes:
        pitch, start, duration, *rest = n
        velocity = rest[0] if rest else 80
        out.append(Note(Fraction(start), Fraction(duration), int(pitch), int(velocity)))
    return Track(out, name=name, program=program, is_drum=is_drum)


def make_piece(*tracks, tempo=120.0, time_signature=(4, 4), name="test") -> Piece:
    """Each positional argument is a list of (pitch, start, duration[, velocity])."""
    return Piece(
        [t if isinstance(t, Track) else make_track(t) for t in tracks],
        tempo=tempo,
        time_signature=time_signature,
        name=name,
    )


# Subprocess tests fail on their own assertions; this limit only ends a child that hangs
# (far above any run, even on a loaded machine), so a hang cannot stall CI for ever.
HANG_LIMIT = 3600

TWO_CPUS = """
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
"""


def run_on_two_cpus(body: str, timeout: int = HANG_LIMIT) -> str:
    """Run the script ``body`` in a fresh Python with two logical CPU devices; its stdout.

    Logical devices must be set before TensorFlow starts, and one process holds one
    MirroredStrategy at a time (two would share collective keys), hence a subprocess.
    The script can ``import builders``. Fails the test with the script's stderr.
    """
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    tests = Path(__file__).parent
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(tests), str(tests.parent),
                                           os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", TWO_CPUS + textwrap.dedent(body)],
                         capture_output=True, text=True, env=env, timeout=timeout)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout


def serve_savedmodel(path, inputs: list) -> list:
    """Outputs of the SavedModel at ``path`` for ``inputs`` (int32 arrays), served by
    ``tf.saved_model.load(path).serve`` in a fresh Python that must not import kerasmusic."""
    import os
    import subprocess
    import sys
    import tempfile

    import numpy as np

    with tempfile.TemporaryDirectory() as work:
        for i, array in enumerate(inputs):
            np.save(os.path.join(work, f"in{i}.npy"), np.asarray(array, np.int32))
        script = (
            "import sys, numpy as np, tensorflow as tf\n"
            f"d, n = {work!r}, {len(inputs)}\n"
            f"m = tf.saved_model.load({str(path)!r})\n"
            "out = m.serve([tf.constant(np.load(f'{d}/in{i}.npy')) for i in range(n)])\n"
            "for i, o in enumerate(out if isinstance(out, (list, tuple)) else [out]):\n"
            "    np.save(f'{d}/out{i}.npy', o.numpy())\n"
            "assert 'kerasmusic' not in sys.modules\n"
        )
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=work,
                       timeout=HANG_LIMIT)
        names = sorted(f for f in os.listdir(work) if f.startswith("out"))
        return [np.load(os.path.join(work, f)) for f in names]
