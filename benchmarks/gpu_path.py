"""The GPU path in one run: cuDNN LSTMs, mixed precision, MirroredStrategy, steps/s.

On whatever devices TensorFlow sees, this script

1. traces a training step of every LSTM model (attention LSTM, char-RNN loop,
   piano-roll RNN, event LSTM, the C-RNN-GAN's bidirectional discriminator) and reports
   whether its graph holds TensorFlow's fused cuDNN op (``CudnnRNNV3``): Keras picks the
   cuDNN kernel on a GPU when a layer's settings allow it, and falls back silently
   otherwise. (The C-RNN-GAN generator feeds each output back as the next input, one
   cell step at a time, which no fused kernel can do);
2. times training steps of the attention LSTM (``create_network(387, 18)``, windows
   of 32, Keras ``fit``) and of MuseGAN (seed shapes; one step = 5 critic steps + 1
   generator step), each in float32 and in mixed_float16, after a warm-up;
3. checks that the mixed-precision runs keep finite losses;
4. runs MuseGAN steps under ``MirroredStrategy`` over every visible GPU (the global
   batch grows with the replicas) and checks the losses are finite.

It ends with Markdown table rows for ``benchmarks/RESULTS.md``. Steps/s depend on the
machine; compare the figures of one run.

    python benchmarks/gpu_path.py            # on a GPU machine
    python benchmarks/gpu_path.py --quick    # tiny sizes, to try it anywhere
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from musegan_steps import steps_per_second as musegan_steps_per_second  # noqa: E402

from kerasmusic.models.attention_lstm import create_network  # noqa: E402
from kerasmusic.models.char_rnn import build_char_rnn  # noqa: E402
from kerasmusic.models.crnngan_recurrent import build_recurrent_discriminator  # noqa: E402
from kerasmusic.models.event_lstm import build_event_lstm  # noqa: E402
from kerasmusic.models.pianoroll_rnn import build_pianoroll_rnn  # noqa: E402
from kerasmusic.training.char_rnn import make_char_rnn_train_step  # noqa: E402
from kerasmusic.training.musegan import MuseGAN, MuseGANConfig  # noqa: E402

CUDNN_OPS = {"CudnnRNN", "CudnnRNNV2", "CudnnRNNV3"}


def graph_ops(concrete_function) -> set[str]:
    """Op types in a traced function's graph and in every function it calls."""
    graph_def = concrete_function.graph.as_graph_def()
    ops = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        ops |= {node.op for node in function.node_def}
    return ops


def fit_model_ops(model: keras.Model, x) -> set[str]:
    """Ops of one forward and backward pass of ``model`` in training mode."""

    @tf.function
    def forward_backward(x):
        with tf.GradientTape() as tape:
            outputs = tf.nest.flatten(model(x, training=True))
            loss = tf.add_n([tf.reduce_sum(tf.cast(out, tf.float32)) for out in outputs])
        return tape.gradient(loss, model.trainable_variables)

    return graph_ops(forward_backward.get_concrete_function(x))


def cudnn_report(units: int) -> dict[str, bool]:
    """For each LSTM model: does its training graph use the fused cuDNN kernel?"""
    rng = np.random.default_rng(0)
    ids = lambda high, shape: tf.constant(rng.integers(0, high, shape), tf.int32)  # noqa: E731
    report = {}
    model = create_network(40, 8, embed_size=8, rnn_units=units)
    report["attention LSTM"] = fit_model_ops(model, [ids(40, (4, 16)), ids(8, (4, 16))])
    model = build_pianoroll_rnn(88, units=units)
    report["piano-roll RNN"] = fit_model_ops(
        model, tf.constant(rng.random((4, 16, 88)) > 0.9, tf.float32))
    model = build_event_lstm(units=units, dropout=0.0)
    report["event LSTM"] = fit_model_ops(
        model, tf.stack([ids(88, (4, 16)), ids(32, (4, 16)), ids(12, (4, 16))], axis=-1))
    model = build_recurrent_discriminator(units=units)
    report["C-RNN-GAN discriminator"] = fit_model_ops(
        model, tf.constant(rng.normal(size=(4, 16, 4)), tf.float32))
    model = build_char_rnn(40, rnn_units=units)
    step = make_char_rnn_train_step(model)
    report["char-RNN loop"] = graph_ops(step.get_concrete_function(
        ids(40, (4, 16)), ids(40, (4, 16)), None))
    return {name: bool(ops & CUDNN_OPS) for name, ops in report.items()}


class _EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.started
        self.loss = logs["loss"]


def attention_lstm_steps(policy: str, batch: int, steps: int, units: int) -> tuple[float, float]:
    """Keras ``fit`` training steps/s of ``create_network`` (second epoch) and its loss."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = create_network(387, 18, rnn_units=units)
        rng = np.random.default_rng(0)
        x = (rng.integers(0, 387, (batch, 32)), rng.integers(0, 18, (batch, 32)))
        y = (rng.integers(0, 387, batch), rng.integers(0, 18, batch))
        data = tf.data.Dataset.from_tensors((x, y)).repeat()
        timer = _EpochTimer()
        model.fit(data, epochs=2, steps_per_epoch=steps, callbacks=[timer], shuffle=False,
                  verbose=0)
        return steps / timer.seconds, timer.loss
    finally:
        keras.mixed_precision.set_global_policy("float32")


def musegan_steps(mixed: bool, batch: int, steps: int, quick: bool,
                  strategy: tf.distribute.Strategy | None = None) -> tuple[float, dict]:
    """MuseGAN steps/s (5 critic + 1 generator step) and the last step's losses."""
    config = MuseGANConfig(mixed_precision=mixed)
    if quick:
        config = MuseGANConfig(z_dim=8, n_steps_per_bar=8, n_pitches=24,
                               mixed_precision=mixed)
    shape = (config.n_bars, config.n_steps_per_bar, config.n_pitches, config.n_tracks)
    rng = np.random.default_rng(0)
    real = np.where(rng.random((batch, *shape)) > 0.97, 1.0, -1.0).astype("float32")
    gan = MuseGAN(config, strategy=strategy, seed=0)
    n_batches = 2 * (steps + 1) * config.critic_steps
    batches = gan.distribute(tf.data.Dataset.from_tensors(real).repeat(n_batches))
    speed = musegan_steps_per_second(gan, batches, steps)
    critic_batch, noise = next(iter(batches))
    critic, wasserstein, penalty = gan.critic_step(critic_batch)
    losses = {"critic": critic, "wasserstein": wasserstein, "gradient penalty": penalty,
              "generator": gan.generator_step(noise)}
    return speed, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few steps")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per figure")
    args = parser.parse_args()
    quick = args.quick
    steps = args.steps or (3 if quick else 50)
    units = 16 if quick else 256
    gpus = tf.config.list_physical_devices("GPU")
    device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") \
        if gpus else "CPU only"
    print(f"devices: {len(gpus)} GPU(s) ({device}); TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}", flush=True)

    for name, used in cudnn_report(units).items():
        print(f"cuDNN kernel in the {name} training graph: {'yes' if used else 'NO'}"
              + ("" if gpus else " (expected: no GPU)"), flush=True)

    rows = []
    lstm_batch = 64
    for policy in ("float32", "mixed_float16"):
        speed, loss = attention_lstm_steps(policy, lstm_batch, steps, units)
        print(f"attention LSTM, {policy}: {speed:.1f} steps/s (batch {lstm_batch}), "
              f"loss {loss:.3f}", flush=True)
        assert math.isfinite(loss), f"attention LSTM {policy}: loss {loss}"
        rows.append(("attention LSTM", f"batch {lstm_batch} x 32", policy, speed))

    gan_batch = 8 if quick else 32
    gan_steps = max(1, steps // 10)
    for mixed in (False, True):
        policy = "mixed_float16" if mixed else "float32"
        speed, losses = musegan_steps(mixed, gan_batch, gan_steps, quick)
        print(f"MuseGAN, {policy}: {speed:.3f} steps/s (batch {gan_batch}), last losses "
              + ", ".join(f"{k} {v:.3f}" for k, v in losses.items()), flush=True)
        assert all(math.isfinite(v) for v in losses.values()), losses
        rows.append(("MuseGAN", f"batch {gan_batch}", policy, speed))

    strategy = tf.distribute.MirroredStrategy()
    n = strategy.num_replicas_in_sync
    speed, losses = musegan_steps(False, gan_batch * n, gan_steps, quick, strategy)
    print(f"MuseGAN under MirroredStrategy, {n} replica(s): {speed:.3f} steps/s "
          f"(global batch {gan_batch * n}), last losses "
          + ", ".join(f"{k} {v:.3f}" for k, v in losses.items()), flush=True)
    assert all(math.isfinite(v) for v in losses.values()), losses
    rows.append((f"MuseGAN, MirroredStrategy x{n}", f"global batch {gan_batch * n}",
                 "float32", speed))

    print("\n| model | batch | precision | steps/s |\n|---|---|---|---|")
    for model, batch, policy, speed in rows:
        print(f"| {model} | {batch} | {policy} | {speed:.3f} |")


if __name__ == "__main__":
    main()
