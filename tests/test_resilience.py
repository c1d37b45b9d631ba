"""A training run killed with SIGKILL resumes from its last checkpoint and finishes."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from builders import HANG_LIMIT

CHILD = textwrap.dedent("""
    import sys
    import numpy as np, tensorflow as tf
    from kerasmusic.training.musegan import MuseGAN, MuseGANConfig
    cfg = MuseGANConfig(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4, n_pitches=12,
                        critic_steps=2)
    rng = np.random.default_rng(0)
    rolls = np.where(rng.random((16, 2, 4, 12, 2)) > 0.8, 1.0, -1.0).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(rolls).batch(4)  # 4 critic, 2 generator steps
    gan = MuseGAN(cfg, seed=0)
    history = gan.fit(data, epochs=int(sys.argv[2]), checkpoint_dir=sys.argv[1])
    print("DONE", int(gan.step.numpy()), int(gan.critic_step_count.numpy()),
          history["critic_loss"][-1] if history["critic_loss"] else "none", flush=True)
""")


def _child(ckpt, epochs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-u", "-c", CHILD, str(ckpt), str(epochs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.slow
def test_sigkill_mid_run_resumes_from_the_last_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    child = _child(ckpt, 40)
    # Kill it at a random point after its second checkpoint (seeded, so reproducible).
    for line in child.stdout:
        if line.startswith("epoch 2/40"):
            break
    time.sleep(np.random.default_rng(0).uniform(0.0, 1.0))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=HANG_LIMIT)
    assert child.returncode == -signal.SIGKILL
    saved = sorted(int(p.name[5:-6]) for p in ckpt.glob("ckpt-*.index"))
    assert saved and saved[-1] >= 2

    resumed = _child(ckpt, 8)
    out, err = resumed.communicate(timeout=HANG_LIMIT)
    assert resumed.returncode == 0, err[-2000:]
    assert f"resumed from {ckpt}/ckpt-{saved[-1]} at epoch {saved[-1]}" in out
    done = next(line for line in out.splitlines() if line.startswith("DONE")).split()
    # 8 epochs of 4 critic steps and 2 generator steps, as if never interrupted.
    assert int(done[1]) == 16 and int(done[2]) == 32
    assert done[3] == "none" or np.isfinite(float(done[3]))
