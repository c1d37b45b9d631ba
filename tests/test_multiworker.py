"""Two localhost worker processes train MuseGAN and a char-RNN with MultiWorkerMirroredStrategy."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from builders import HANG_LIMIT

WORKER = textwrap.dedent("""
    import sys
    import numpy as np, tensorflow as tf
    if sys.argv[1] == "multi":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    from kerasmusic.training.musegan import MuseGAN, MuseGANConfig
    cfg = MuseGANConfig(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4, n_pitches=12,
                        critic_steps=2)
    rng = np.random.default_rng(0)
    rolls = np.where(rng.random((16, 2, 4, 12, 2)) > 0.8, 1.0, -1.0).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(rolls).batch(4)  # global batch 4
    gan = MuseGAN(cfg, strategy=strategy, seed=0)
    history = gan.fit(data, epochs=1, verbose=False)
    weights = [w.numpy() for w in gan.generator.trainable_weights + gan.critic.weights]
    print("STEPS", int(gan.step.numpy()), history["critic_loss"][0], flush=True)
    # The char-RNN's truncated BPTT: each replica carries the state of its own rows.
    from kerasmusic.data.text import TextCorpus
    from kerasmusic.training.char_rnn import train_char_rnn
    text = ["".join(rng.choice(list("abcde fg"), 300)) for _ in range(2)]
    chars = train_char_rnn(TextCorpus(text), mode="consecutive", seq_len=10, batch_size=4,
                           embed_size=4, rnn_units=6, epochs=2, validation_fraction=0.5,
                           strategy=strategy, seed=0, verbose=0)
    weights += chars.model.get_weights()
    np.save(sys.argv[2], np.concatenate([w.ravel() for w in weights]))
    print("CHARS", chars.history["loss"], flush=True)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _start(mode, out, tf_config=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, "-c", WORKER, mode, str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_workers_end_with_identical_weights(tmp_path):
    cluster = {"worker": [f"localhost:{_free_port()}" for _ in range(2)]}
    workers = [_start("multi", tmp_path / f"w{i}.npy",
                      {"cluster": cluster, "task": {"type": "worker", "index": i}})
               for i in range(2)]
    single = _start("single", tmp_path / "single.npy")
    outputs = []
    for proc in workers + [single]:
        out, err = proc.communicate(timeout=HANG_LIMIT)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(out)
    # 4 critic steps of the global batch 4 (2 per worker), 2 generator steps each.
    assert all("STEPS 2" in out and "CHARS" in out for out in outputs)
    w0, w1, one = (np.load(tmp_path / f"{n}.npy") for n in ("w0", "w1", "single"))
    np.testing.assert_array_equal(w0, w1)
    # ... and the same as one process training on the whole global batch. Adam moves a
    # weight by about its learning rate (1e-3) whatever its gradient's size, so a weight
    # whose gradient is zero up to rounding (10 of 1.7 million here, biases of the critic's
    # patch convolutions) may step either way with the order in which the two workers'
    # gradients are summed. A wrong distribution (rows lost or counted twice) moves most.
    diff = np.abs(w0 - one)
    assert (diff > 1e-4).mean() < 1e-4, f"{(diff > 1e-4).sum()} weights differ by > 1e-4"
    assert diff.max() < 4e-3  # 2 generator + 4 critic Adam steps of at most ~lr each
