"""Training MuseGAN as a WGAN-GP, on one device or many.

Per generator step the critic takes ``critic_steps`` (5) steps, each on a new real
batch: loss = mean(D(fake)) - mean(D(real)) + ``gp_weight`` (10) x gradient penalty,
where the penalty is (||grad D(x)|| - 1)^2 at x = alpha real + (1 - alpha) fake, alpha
~ U(0, 1) per sample and the norm over all non-batch axes. The generator's loss is
-mean(D(fake)). Adam(beta_1 0.5, beta_2 0.9) for both. Noise, alpha and crops come
from a seed, so a run is reproducible; under a ``tf.distribute`` strategy the
generator's batch normalisation is synchronised over replicas, so a step on N
replicas equals a step on one device with the same global batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.data.augment import DEFAULT_SHIFTS, random_phrase_transpose
from kerasmusic.data.json_config import write_json_atomic
from kerasmusic.data.midi import write_midi
from kerasmusic.data.notes import Piece
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.shards import ShardError, pianoroll_shard_dataset, read_shard_manifest
from kerasmusic.errors import KerasMusicError
from kerasmusic.generation.musegan import generate_rolls
from kerasmusic.models.musegan import GENERATOR_MODES, build_critic, build_generator_network
from kerasmusic.roll_metrics import RollComparison, compare_rolls
from kerasmusic.training.distributed import (
    apply_summed_gradients,
    check_finite,
    distributed_step,
)
from kerasmusic.validation import check, check_count, check_learning_rate, check_training


def gradient_penalty(critic: keras.Model, real, fake, alpha, scale=1.0):
    """Per-sample (||d critic / d x|| - 1)^2 at x = alpha real + (1 - alpha) fake.

    ``alpha`` broadcasts against the samples (shape (batch, 1, 1, 1, 1)); the norm
    runs over every non-batch axis. ``scale`` multiplies the score before the input
    gradient is taken and divides it after: under mixed precision the loss scale,
    so small float16 gradients do not flush to zero.
    """
    mixed = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        score = tf.cast(critic(mixed, training=True), tf.float32) * scale
    grads = tf.cast(tape.gradient(score, mixed), tf.float32) / scale
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=tf.range(1, tf.rank(grads))) + 1e-12)
    return tf.square(norm - 1.0)


@dataclasses.dataclass
class MuseGANConfig:
    """Settings of :class:`MuseGAN` (defaults: the seed's).

    Attributes:
        z_dim: size of each noise vector.
        n_tracks, n_bars, n_steps_per_bar, n_pitches: the piano-roll shape.
        gp_weight: weight of the gradient penalty (10).
        critic_steps: critic steps per generator step (5).
        learning_rate: Adam learning rate of both models.
        beta_1, beta_2: Adam moments (0.5, 0.9).
        mode: the generator's mode, ``"hybrid"``, ``"jamming"`` or ``"composer"``
            (see :func:`~kerasmusic.build_generator_network`).
        mixed_precision: build both models with the ``mixed_float16`` policy (float16
            compute, float32 weights) and scale the losses (``LossScaleOptimizer``);
            for GPUs with tensor cores, slower on CPUs.
        patch_convs: compute the convolutions that stride by their kernel as one
            matrix product each (:mod:`kerasmusic.models.patch_conv`; same weights and
            outputs); False builds Keras' own ``Conv2DTranspose`` / ``Conv3D``.
        steps_per_call: critic steps run in one compiled call by :meth:`MuseGAN.fit`
            (the generator steps in between included); the losses stay on the device
            and are read once per call. None: a whole epoch per call.
        condition_tracks: tracks given, not generated (accompaniment): the generator
            reads them from each real batch (:func:`~kerasmusic.build_generator_network`'s
            ``condition_tracks``) and makes the others; the critic judges the whole
            roll, the given tracks real. Empty: the unconditional MuseGAN.
        onset_stream: give the critic a second stream that reads each track's note
            onsets (:func:`~kerasmusic.build_critic`'s ``onset_stream``).
    """

    z_dim: int = 32
    n_tracks: int = 4
    n_bars: int = 2
    n_steps_per_bar: int = 16
    n_pitches: int = 84
    gp_weight: float = 10.0
    critic_steps: int = 5
    learning_rate: float = 1e-3
    beta_1: float = 0.5
    beta_2: float = 0.9
    mode: str = "hybrid"
    mixed_precision: bool = False
    patch_convs: bool = True
    steps_per_call: int | None = None
    condition_tracks: tuple[int, ...] = ()
    onset_stream: bool = False

    def __post_init__(self):
        for name in ("z_dim", "n_tracks", "n_bars", "n_steps_per_bar", "n_pitches",
                     "critic_steps"):
            check_count(name, getattr(self, name))
        check_count("steps_per_call", self.steps_per_call, optional=True)
        check("gp_weight", self.gp_weight, minimum=0)
        check_learning_rate("learning_rate", self.learning_rate)
        for name in ("beta_1", "beta_2"):
            check(name, getattr(self, name), minimum=0, below=1)
        self.condition_tracks = tuple(int(t) for t in self.condition_tracks)


@contextlib.contextmanager
def _dtype_policy(name: str | None):
    """Build layers under the ``name`` dtype policy (None: leave the policy alone)."""
    if name is None:
        yield
        return
    old = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(old)


class MuseGAN:
    """MuseGAN's generator and critic, their optimizers and the WGAN-GP loop.

    Args:
        config: a :class:`MuseGANConfig`.
        strategy: a ``tf.distribute.Strategy`` (default: the current one).
        seed: fixes weights, noise and the interpolation weights.
    """

    def __init__(self, config: MuseGANConfig | None = None,
                 strategy: tf.distribute.Strategy | None = None, seed: int = 0):
        self.config = c = config or MuseGANConfig()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.seed = int(seed)
        keras.utils.set_random_seed(seed)
        with self.strategy.scope():
            with _dtype_policy("mixed_float16" if c.mixed_precision else None):
                self.generator = build_generator_network(
                    c.z_dim, c.n_tracks, c.n_bars, c.n_steps_per_bar, c.n_pitches,
                    synchronized_bn=self.strategy.num_replicas_in_sync > 1, mode=c.mode,
                    patch_convs=c.patch_convs, condition_tracks=c.condition_tracks)
                self.critic = build_critic((c.n_bars, c.n_steps_per_bar, c.n_pitches,
                                            c.n_tracks), patch_convs=c.patch_convs,
                                           onset_stream=c.onset_stream)
            self.g_optimizer = self._optimizer()
            self.c_optimizer = self._optimizer()
            # Keras 3.15 under MirroredStrategy: build the slots before the first step.
            self.g_optimizer.build(self.generator.trainable_variables)
            self.c_optimizer.build(self.critic.trainable_variables)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.critic_step_count = tf.Variable(0, dtype=tf.int64, trainable=False,
                                                 name="critic_step_count")
        self._critic_step = distributed_step(self.strategy, self._replica_critic_step)
        self._generator_step = distributed_step(self.strategy, self._replica_generator_step)
        self._steps = tf.function(self._run_steps)

    def _optimizer(self) -> keras.optimizers.Optimizer:
        c = self.config
        optimizer = keras.optimizers.Adam(c.learning_rate, c.beta_1, c.beta_2)
        return keras.optimizers.LossScaleOptimizer(optimizer) if c.mixed_precision else optimizer

    def _scaled(self, optimizer, loss):
        """The loss to differentiate: scaled up under mixed precision (unscaled on apply)."""
        return optimizer.scale_loss(loss) if self.config.mixed_precision else loss

    def _loss_scale(self):
        if not self.config.mixed_precision:
            return 1.0
        return tf.cast(self.c_optimizer.dynamic_scale, tf.float32)

    @property
    def given_tracks(self) -> list[int]:
        """The tracks the generator is given (sorted), not generated; empty if none."""
        return sorted(set(self.config.condition_tracks))

    def _generate(self, noise, training: bool, real=None):
        """Generated rolls from (chords, style, melody, groove); a mode takes its inputs.

        A track-conditional generator also reads the given tracks of ``real``.
        """
        named = dict(zip(("chords", "style", "melody", "groove"), noise))
        inputs = [named[name] for name in GENERATOR_MODES[self.config.mode]]
        if self.given_tracks:
            if real is None:
                raise KerasMusicError("this MuseGAN generates accompaniment: it needs the "
                                      "given tracks (real rolls or a condition)")
            inputs.append(tf.gather(real, self.given_tracks, axis=-1))
        return tf.cast(self.generator(inputs, training=training), tf.float32)

    def _score(self, rolls):
        return tf.cast(self.critic(rolls, training=True), tf.float32)[:, 0]

    # === Noise ===

    def noise(self, batch: int, index) -> tuple:
        """Seeded normal (chords, style, melody, groove) noise for ``batch`` samples."""
        c = self.config
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(index, tf.int64)])
        draw = tf.random.stateless_normal(
            [batch, 2 + 2 * c.n_tracks, c.z_dim], seed=seed)
        return (draw[:, 0], draw[:, 1], draw[:, 2:2 + c.n_tracks], draw[:, 2 + c.n_tracks:])

    # === Steps (per replica) ===

    def _replica_critic_step(self, real, chords, style, melody, groove, alpha, global_batch):
        fake = self._generate((chords, style, melody, groove), training=True, real=real)
        with tf.GradientTape() as tape:
            real_score = self._score(real)
            fake_score = self._score(fake)
            penalty = gradient_penalty(self.critic, real, fake, alpha, self._loss_scale())
            per_sample = fake_score - real_score + self.config.gp_weight * penalty
            loss = tf.nn.compute_average_loss(per_sample, global_batch_size=global_batch)
            scaled = self._scaled(self.c_optimizer, loss)
        grads = tape.gradient(scaled, self.critic.trainable_variables)
        apply_summed_gradients(self.c_optimizer, grads, self.critic.trainable_variables,
                               self.strategy)
        average = lambda v: tf.nn.compute_average_loss(v, global_batch_size=global_batch)  # noqa
        return loss, average(real_score - fake_score), average(penalty)

    def _replica_generator_step(self, *batch):
        # (chords, style, melody, groove[, real], global_batch): real gives the condition
        *noise, global_batch = batch
        real = noise[4] if len(noise) > 4 else None
        with tf.GradientTape() as tape:
            fake = self._generate(noise[:4], training=True, real=real)
            score = self._score(fake)
            loss = tf.nn.compute_average_loss(-score, global_batch_size=global_batch)
            scaled = self._scaled(self.g_optimizer, loss)
        grads = tape.gradient(scaled, self.generator.trainable_variables)
        apply_summed_gradients(self.g_optimizer, grads, self.generator.trainable_variables,
                               self.strategy)
        return loss

    # === Steps (global) ===

    def critic_step(self, batch) -> tuple[float, float, float]:
        """One critic step on a distributed batch (real, chords, style, melody, groove, alpha).

        Returns (critic loss, Wasserstein estimate mean D(real) - mean D(fake), penalty).
        """
        logs = tuple(float(v) for v in self._critic_step(batch))
        self.critic_step_count.assign_add(1)
        return logs

    def generator_step(self, batch, real=None) -> float:
        """One generator step on a distributed batch (chords, style, melody, groove).

        ``real``: the distributed real rolls whose given tracks a track-conditional
        generator reads (the critic batch's first element).
        """
        loss = float(self._generator_step(self._with_condition(batch, real)))
        self.step.assign_add(1)
        return loss

    def _with_condition(self, noise, real):
        return (*noise, real) if self.given_tracks else tuple(noise)

    def train_steps(self, iterator, max_steps: int) -> dict:
        """Up to ``max_steps`` critic steps from ``iterator`` in one compiled call.

        After every ``critic_steps``-th critic step of the run (counted over the whole
        run, as :meth:`fit` does) a generator step follows, on that batch's generator
        noise. The losses are summed on the device and read once, at the end. The
        call stops early when the iterator runs out, or right after a step whose
        losses are not finite (its updates are applied, as with one step at a time).

        Args:
            iterator: an iterator over :meth:`distribute`'s batches.
            max_steps: the most critic steps to run.

        Returns:
            ``critic_steps`` and ``generator_steps`` run; ``critic`` (sums of critic
            loss, Wasserstein estimate and penalty) and ``generator`` (sum of
            generator losses) as numpy values; ``bad_step``: the critic step count at
            which a loss was not finite (0 if none), ``bad_generator`` whether it was
            the generator's, and ``last``: the last critic step's three losses and the
            last generator loss.
        """
        if int(max_steps) < 1:
            raise KerasMusicError(f"max_steps must be at least 1, got {max_steps}")
        out = self._steps(iterator, tf.constant(int(max_steps), tf.int64))
        return {k: v.numpy() for k, v in out.items()}

    @tf.autograph.experimental.do_not_convert
    def _run_steps(self, iterator, max_steps):
        # Explicit while loops, no tf.cond around a step: under MirroredStrategy a
        # strategy.run inside a cond branch fails to feed the branch's captured inputs
        # (seen with TF 2.21). The generator step is a loop of zero or one pass, and the
        # iterator's end and a non-finite loss end the outer loop through its condition.
        k = self.config.critic_steps

        def generator_pass(i, total, count, last, finite, batch):
            loss = tf.cast(self._generator_step(batch), tf.float32)
            self.step.assign_add(1)
            return (i + 1, total + loss, count + 1, tf.concat([last[:3], [loss]], 0),
                    tf.math.is_finite(loss), batch)

        def keep_going(n, critic_sum, generator_sum, n_generator, last, finite, bad_generator,
                       element):
            return tf.logical_and(tf.logical_and(n < max_steps, finite), element.has_value())

        def critic_pass(n, critic_sum, generator_sum, n_generator, last, finite,
                        bad_generator, element):
            critic_batch, generator_noise = element.get_value()
            logs = tf.stack([tf.cast(v, tf.float32) for v in self._critic_step(critic_batch)])
            count = self.critic_step_count.assign_add(1)
            finite = tf.reduce_all(tf.math.is_finite(logs))
            last = tf.concat([logs, last[3:]], 0)
            # Counted over the whole run: after every k-th critic step, a generator step.
            due = tf.logical_and(finite, tf.equal(count % k, 0))
            _, generator_sum, n_generator, last, generator_finite, _ = tf.while_loop(
                lambda i, *_: i < tf.cast(due, tf.int32), generator_pass,
                [tf.constant(0), generator_sum, n_generator, last, tf.constant(True),
                 self._with_condition(generator_noise, critic_batch[0])])
            bad_generator = tf.logical_not(generator_finite)
            finite = tf.logical_and(finite, generator_finite)
            # Take the next batch only if the loop goes on (none is lost at max_steps).
            element = tf.cond(tf.logical_and(n + 1 < max_steps, finite),
                              iterator.get_next_as_optional, lambda: element)
            return (n + 1, critic_sum + logs, generator_sum, n_generator, last, finite,
                    bad_generator, element)

        n, critic_sum, generator_sum, n_generator, last, finite, bad_generator, _ = \
            tf.while_loop(keep_going, critic_pass, [
                tf.constant(0, tf.int64), tf.zeros([3]), tf.zeros([]),
                tf.constant(0, tf.int64), tf.zeros([4]), tf.constant(True),
                tf.constant(False), iterator.get_next_as_optional()])
        bad_step = tf.where(finite, tf.constant(0, tf.int64),
                            self.critic_step_count.read_value())
        return {"critic_steps": n, "generator_steps": n_generator, "critic": critic_sum,
                "generator": generator_sum, "bad_step": bad_step,
                "bad_generator": bad_generator, "last": last}

    def distribute(self, dataset: tf.data.Dataset):
        """Add seeded noise and alpha to each real batch, and distribute the batches.

        Elements become (critic batch, generator noise): the critic batch is (real,
        chords, style, melody, groove, alpha).
        """
        def with_noise(index, real):
            batch = tf.shape(real)[0]
            alpha = tf.random.stateless_uniform(
                [batch, 1, 1, 1, 1], seed=tf.stack([tf.constant(self.seed + 1, tf.int64),
                                                    index]))
            return (real, *self.noise(batch, 2 * index), alpha), self.noise(batch, 2 * index + 1)

        # Batch indices go on from the last critic step: a resumed run draws new noise.
        start = tf.cast(self.critic_step_count.numpy(), tf.int64)
        return self.strategy.experimental_distribute_dataset(
            dataset.enumerate(start=start).map(with_noise))

    # === Loop ===

    def checkpoint_manager(self, directory, max_to_keep: int = 3) -> tf.train.CheckpointManager:
        """Models, optimizers, epoch and step in ``directory``."""
        checkpoint = tf.train.Checkpoint(generator=self.generator, critic=self.critic,
                                         g_optimizer=self.g_optimizer,
                                         c_optimizer=self.c_optimizer,
                                         epoch=self.epoch, step=self.step,
                                         critic_step_count=self.critic_step_count)
        return tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)

    def fit(self, dataset: tf.data.Dataset, epochs: int = 10, *, checkpoint_dir=None,
            callbacks: Sequence = (), verbose: bool = True,
            max_seconds: float | None = None) -> dict[str, list[float]]:
        """Train: per generator step, ``critic_steps`` critic steps on new real batches.

        Args:
            dataset: batches of real rolls (batch, bars, steps, pitches, tracks).
            epochs: passes over the dataset.
            checkpoint_dir: restore the latest checkpoint there, save one per epoch.
                A NaN or infinite loss stops training at its step with a
                :class:`~kerasmusic.errors.NonFiniteLossError` naming the last good
                checkpoint; the bad epoch is never saved.
            callbacks: functions ``f(epoch, gan, logs)`` called after each epoch
                (e.g. to write samples).
            verbose: one line per epoch.
            max_seconds: stop after the first epoch that ends this long after the
                call began (None: run every epoch); the epoch is completed and saved.

        Returns:
            Per-epoch means of ``critic_loss``, ``generator_loss``, ``gradient_penalty``
            and ``wasserstein`` (mean critic score of real minus generated), for the
            whole run: a resumed run reads its earlier epochs from ``history.json``
            beside the checkpoints.
        """
        manager = self.checkpoint_manager(checkpoint_dir) if checkpoint_dir else None
        history = {k: [] for k in ("critic_loss", "generator_loss", "gradient_penalty",
                                   "wasserstein")}
        if manager and manager.latest_checkpoint:
            manager.checkpoint.restore(manager.latest_checkpoint)
            history = _read_history(checkpoint_dir, history, int(self.epoch.numpy()))
            if verbose:
                print(f"resumed from {manager.latest_checkpoint} at epoch "
                      f"{int(self.epoch.numpy())}", flush=True)
        per_call = self.config.steps_per_call or 2**62
        began = time.monotonic()
        while int(self.epoch.numpy()) < epochs:
            if max_seconds is not None and time.monotonic() - began >= max_seconds:
                if verbose:
                    print(f"time budget of {max_seconds:g} s used: stopped after epoch "
                          f"{int(self.epoch.numpy())}", flush=True)
                break
            started = time.monotonic()
            epoch = int(self.epoch.numpy()) + 1
            iterator = iter(self.distribute(dataset))
            n_critic = n_generator = 0
            critic_sum, generator_sum = np.zeros(3), 0.0
            while True:
                out = self.train_steps(iterator, per_call)
                n_critic += int(out["critic_steps"])
                n_generator += int(out["generator_steps"])
                critic_sum = critic_sum + out["critic"]
                generator_sum += float(out["generator"])
                if out["bad_step"]:
                    self._stop_non_finite(out, epoch, manager)
                if out["critic_steps"] < per_call:
                    break
            if not n_critic:
                raise KerasMusicError("the dataset gave no batch to train on")
            c_loss, wasserstein, penalty = critic_sum / n_critic
            logs = {"critic_loss": float(c_loss), "wasserstein": float(wasserstein),
                    "gradient_penalty": float(penalty),
                    "generator_loss": generator_sum / n_generator if n_generator
                    else float("nan")}
            for key, value in logs.items():
                history[key].append(value)
            self.epoch.assign_add(1)
            if manager:
                # History first: a kill between the two leaves a history one epoch ahead,
                # which resuming cuts back, never a checkpoint without its epoch's history.
                write_json_atomic(os.path.join(os.fspath(checkpoint_dir), "history.json"),
                                  history)
                manager.save(checkpoint_number=int(self.epoch.numpy()))
            for callback in callbacks:
                callback(int(self.epoch.numpy()), self, logs)
            if verbose:
                print(f"epoch {int(self.epoch.numpy())}/{epochs} "
                      f"({time.monotonic() - started:.1f} s): "
                      f"critic {logs['critic_loss']:.4f}, generator "
                      f"{logs['generator_loss']:.4f}, gradient penalty "
                      f"{logs['gradient_penalty']:.4f}, wasserstein {logs['wasserstein']:.4f}",
                      flush=True)
        return history

    def _stop_non_finite(self, out: dict, epoch: int, manager) -> None:
        """Raise NonFiniteLossError for the step :meth:`train_steps` stopped at."""
        last = [float(v) for v in out["last"]]
        if out["bad_generator"]:
            where = f"generator step {int(self.step.numpy())} (epoch {epoch})"
            losses = {"generator loss": last[3]}
        else:
            where = f"critic step {int(out['bad_step'])} (epoch {epoch})"
            losses = dict(zip(("critic loss", "wasserstein", "gradient penalty"), last[:3]))
        check_finite(losses, where, manager)

    def generate(self, n: int, seed: int = 0, n_bars: int | None = None,
                 condition: np.ndarray | None = None) -> np.ndarray:
        """``n`` generated phrases (n, bars, steps, pitches, tracks) in [-1, 1].

        ``n_bars`` other than the phrase length chains phrases
        (:func:`~kerasmusic.generation.musegan.generate_rolls`). A track-conditional
        MuseGAN needs ``condition``: rolls (n, bars, steps, pitches, given tracks) or
        whole rolls whose given tracks are read; they come back unchanged.
        """
        if self.given_tracks and condition is None:
            raise KerasMusicError("this MuseGAN generates accompaniment: pass condition=")
        if condition is not None:
            condition = np.asarray(condition, np.float32)
            if condition.shape[-1] == self.config.n_tracks != len(self.given_tracks):
                condition = condition[..., self.given_tracks]
        if (n_bars is not None and n_bars != self.config.n_bars) or condition is not None:
            return generate_rolls(self.generator, n, n_bars=n_bars, seed=seed,
                                  condition=condition)
        noise = self.noise(n, tf.constant(10_000_019 + seed, tf.int64))
        return keras.ops.convert_to_numpy(self._generate(noise, training=False))


def musegan_quality(gan: MuseGAN, encoding: MultiTrackPianoRoll, real_phrases: np.ndarray,
                    n: int = 500, seed: int = 0) -> RollComparison:
    """``n`` generated phrases, decoded as the encoding decodes them, against real phrases.

    Prints nothing; ``.table()`` gives per-track EB, UPC, QN and polyphony (real /
    generated), the mean tonal distance and which targets of
    :data:`~kerasmusic.roll_metrics.ROLL_TARGETS` are met. An accompaniment MuseGAN
    accompanies ``n`` real phrases drawn with ``seed`` (their given tracks are real).
    """
    if n < 1:
        raise KerasMusicError(f"n must be at least 1, got {n}")
    condition = None
    if gan.given_tracks:
        # accompany n real phrases (drawn with the seed)
        picks = np.random.default_rng(seed).choice(len(real_phrases), n,
                                                   replace=n > len(real_phrases))
        condition = real_phrases[picks]
    generated = encoding.binarize(gan.generate(n, seed=seed, condition=condition))
    return compare_rolls(real_phrases, generated, lowest_pitch=encoding.lowest_pitch,
                         track_names=encoding.track_names)


def _read_history(directory, empty: dict, epochs: int) -> dict:
    """The saved history, cut to the ``epochs`` the restored checkpoint has seen."""
    path = os.path.join(os.fspath(directory), "history.json")
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return empty
    return {k: [float(v) for v in saved.get(k, [])][:epochs] for k in empty}


def encode_phrases(pieces: Sequence[Piece], encoding: MultiTrackPianoRoll) -> np.ndarray:
    """Every phrase of every piece that has the encoding's tracks: (n, *encoding.shape).

    Raises:
        KerasMusicError: no piece gave a phrase.
    """
    usable = [p for p in pieces if encoding.has_tracks(p)]
    phrases = [x for x in (encoding.phrases(p) for p in usable) if len(x)]
    if not phrases:
        raise KerasMusicError(
            f"none of {len(pieces)} pieces gave a phrase ({len(pieces) - len(usable)} lack a "
            f"selected track {encoding.track_names}; the rest are shorter than "
            f"{encoding.n_bars} bars)")
    return np.concatenate(phrases)


def musegan_dataset(pieces_or_phrases, encoding: MultiTrackPianoRoll | None = None,
                    batch_size: int = 64, seed: int = 0, *,
                    transpose: Sequence[int] | None = None) -> tf.data.Dataset:
    """Phrases shuffled with ``seed`` (again each epoch), in full batches, prefetched.

    Args:
        pieces_or_phrases: pieces (encoded with ``encoding``) or an array of phrases
            from :func:`encode_phrases`.
        encoding: the piano-roll encoding; needed for pieces (and, with ``transpose``,
            to keep its drum tracks in place).
        batch_size: the global batch; under a strategy it is split over the replicas.
        seed: the shuffle seed (and the shifts').
        transpose: semitone shifts (e.g. :data:`~kerasmusic.DEFAULT_SHIFTS`): each
            phrase of each batch is moved by one that keeps its notes on the roll,
            drawn anew every epoch (:func:`~kerasmusic.data.augment.random_phrase_transpose`);
            None or ``()``: the phrases as written.
    """
    if isinstance(pieces_or_phrases, np.ndarray):
        data = pieces_or_phrases
    elif encoding is None:
        raise KerasMusicError("musegan_dataset needs an encoding to encode pieces")
    else:
        data = encode_phrases(pieces_or_phrases, encoding)
    if len(data) < batch_size:
        raise KerasMusicError(f"{len(data)} phrases are fewer than one batch of {batch_size}")
    ds = tf.data.Dataset.from_tensor_slices(data).shuffle(len(data), seed=seed)
    ds = ds.batch(batch_size, drop_remainder=True)
    if transpose:
        drums = encoding.drums if encoding is not None else None
        shifts = tuple(transpose)
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip(ds, draws).map(
            lambda rolls, r: random_phrase_transpose(
                rolls, shifts, tf.stack([tf.constant(seed, tf.int64), r]), drums=drums))
    return ds.prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass
class MuseGANResult:
    """What :func:`train_musegan` returns.

    Attributes:
        gan: the trained :class:`MuseGAN` (generator, critic, optimizers).
        encoding: the piano-roll encoding (decode samples with it).
        history: per-epoch ``critic_loss``, ``generator_loss``, ``gradient_penalty``,
            ``wasserstein``.
        phrases: the training phrases (for metrics of the real data); None when
            trained from shards (they are not held in memory).
    """

    gan: MuseGAN
    encoding: MultiTrackPianoRoll
    history: dict
    phrases: np.ndarray | None


def train_musegan(pieces: Sequence[Piece] | str | os.PathLike,
                  encoding: MultiTrackPianoRoll | None = None, *,
                  epochs: int = 10, batch_size: int = 64, steps_per_epoch: int | None = None,
                  config: MuseGANConfig | None = None,
                  strategy: tf.distribute.Strategy | None = None, checkpoint_dir=None,
                  sample_dir=None, sample_every: int = 1, log_dir=None,
                  shuffle_buffer: int = 10_000, transpose: Sequence[int] | None = DEFAULT_SHIFTS,
                  seed: int = 0, verbose: bool = True,
                  max_seconds: float | None = None) -> MuseGANResult:
    """Encode ``pieces`` as piano-roll phrases and train MuseGAN on them as a WGAN-GP.

    Args:
        pieces: the corpus (e.g. ``load_corpus("chorales").pieces``), or a folder of
            TFRecord shards written by :func:`~kerasmusic.data.shards.write_pianoroll_shards`
            (streamed, never held in memory; the encoding comes from its manifest).
        encoding: which tracks and what grid (default: 4 tracks, 2 bars of 16 steps,
            84 pitches: the chorales' SATB voices; for shards, the shards' encoding).
        epochs: passes over the phrases (or over ``steps_per_epoch`` critic batches).
        batch_size: global batch of real phrases per critic step.
        steps_per_epoch: cap the critic steps of an epoch (with shards: exactly this
            many, the shards read again as needed; set it for several workers).
        config: model and optimiser settings; its shape fields are taken from ``encoding``.
        strategy: a ``tf.distribute`` strategy (default: the current one).
        checkpoint_dir: resume from / save checkpoints there.
        sample_dir: write sample MIDI files and a roll PNG there every ``sample_every``
            epochs.
        log_dir: write TensorBoard scalars there.
        shuffle_buffer: records in the shuffle buffer when reading shards.
        transpose: semitone shifts for transposition augmentation: each phrase of
            each batch is moved by one that keeps its notes on the roll (drum tracks
            stay), drawn anew every epoch, so an epoch keeps its length; None or
            ``()`` for the phrases as written. Shards are read as written.
        seed: weights, noise and shuffling.
        verbose: one line per epoch.
        max_seconds: a training time budget: no epoch starts after it is used up.

    Raises:
        ShardError: a shard folder without a valid manifest, or ``encoding`` differs
            from the one the shards were written with.
    """
    check_training(epochs=epochs, batch_size=batch_size, max_seconds=max_seconds,
                   steps_per_epoch=steps_per_epoch, sample_every=sample_every,
                   shuffle_buffer=shuffle_buffer)
    if isinstance(pieces, (str, os.PathLike)):
        encoding, dataset, n_phrases = _shard_source(pieces, encoding, batch_size,
                                                     shuffle_buffer, seed, steps_per_epoch,
                                                     strategy or tf.distribute.get_strategy())
        phrases = None
    else:
        encoding = encoding or MultiTrackPianoRoll()
        phrases = encode_phrases(pieces, encoding)
        dataset = musegan_dataset(phrases, encoding, batch_size=batch_size, seed=seed,
                                  transpose=transpose)
        n_phrases = len(phrases)
    bars, steps, pitches, tracks = encoding.shape
    config = dataclasses.replace(config or MuseGANConfig(), n_bars=bars, n_steps_per_bar=steps,
                                 n_pitches=pitches, n_tracks=tracks)
    if steps_per_epoch:
        # Shards: repeat, so every worker of a multi-worker run gets the same count.
        dataset = (dataset.repeat() if phrases is None else dataset).take(steps_per_epoch)
    if verbose:
        n_batches = n_phrases // batch_size
        if steps_per_epoch:
            n_batches = steps_per_epoch if phrases is None else min(n_batches, steps_per_epoch)
        print(f"{n_phrases} phrases of shape {encoding.shape}; {n_batches} critic steps "
              "per epoch", flush=True)
    gan = MuseGAN(config, strategy=strategy, seed=seed)
    if verbose:
        print(f"generator {gan.generator.count_params():,} parameters, critic "
              f"{gan.critic.count_params():,}"
              + (" (with the onset stream)" if config.onset_stream else ""), flush=True)
    callbacks = []
    if log_dir is not None:
        callbacks.append(TensorBoardScalars(log_dir))
    if sample_dir is not None:
        condition = None
        if gan.given_tracks:
            # accompaniment samples: the given tracks of the first real phrases
            condition = phrases[:2] if phrases is not None else \
                next(iter(dataset))[:2].numpy()
        callbacks.append(SampleWriter(sample_dir, encoding, every=sample_every, seed=seed,
                                      condition=condition))
    history = gan.fit(dataset, epochs=epochs, checkpoint_dir=checkpoint_dir,
                      callbacks=callbacks, verbose=verbose, max_seconds=max_seconds)
    return MuseGANResult(gan, encoding, history, phrases)


def _shard_source(path, encoding, batch_size: int, shuffle_buffer: int, seed: int,
                  steps_per_epoch: int | None, strategy: tf.distribute.Strategy):
    """(encoding, dataset, number of phrases) of a shard folder."""
    manifest = read_shard_manifest(path)
    resolver = strategy.cluster_resolver
    workers = resolver.cluster_spec().num_tasks("worker") if resolver is not None else 1
    if workers > 1:
        # Each worker reads its own shard files, so their batch counts differ: an epoch
        # must be a fixed number of steps, and every worker needs files.
        if not steps_per_epoch:
            raise ShardError(f"{path}: training on {workers} workers from shards needs "
                             "steps_per_epoch (workers read different files)")
        if len(manifest["shards"]) < workers:
            raise ShardError(f"{path}: {len(manifest['shards'])} shard files for {workers} "
                             "workers; write more shards (a smaller examples_per_shard)")
    stored = MultiTrackPianoRoll.from_config(manifest["encoding"])
    if encoding is not None:
        # How a model's output is decoded is not part of the stored phrases.
        stored.monophonic = encoding.monophonic
    if encoding is not None and encoding.get_config() != stored.get_config():
        raise ShardError(f"{path}: the shards were written with another encoding "
                         f"({stored.get_config()}); leave encoding out to use theirs")
    if manifest["examples"] < batch_size:
        raise ShardError(f"{path}: {manifest['examples']} phrases are fewer than one batch "
                         f"of {batch_size}")
    dataset = pianoroll_shard_dataset(path, batch_size, shuffle_buffer=shuffle_buffer,
                                      seed=seed)
    return stored, dataset, int(manifest["examples"])


class TensorBoardScalars:
    """A :meth:`MuseGAN.fit` callback writing each epoch's logs as TensorBoard scalars.

    ``tensorboard --logdir LOG_DIR`` then shows critic / generator loss, gradient
    penalty and the Wasserstein estimate per epoch. Written with TensorFlow's own
    ``tf.summary.write`` and the scalars plugin's metadata, so training does not need
    the ``tensorboard`` package (only viewing does).
    """

    def __init__(self, log_dir: str | os.PathLike):
        self.log_dir = os.fspath(log_dir)
        self._writer = None

    def __call__(self, epoch: int, gan: MuseGAN, logs: dict) -> None:
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        from tensorflow.core.framework import summary_pb2

        metadata = summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = "scalars"
        with self._writer.as_default():
            for key, value in logs.items():
                tf.summary.write(key, tf.constant(value, tf.float32), step=epoch,
                                 metadata=metadata.SerializeToString())
        self._writer.flush()


class SampleWriter:
    """A :meth:`MuseGAN.fit` callback writing sample phrases every ``every`` epochs.

    For epoch E it writes ``epoch_E_I.mid`` (one multi-track MIDI per sample) and
    ``epoch_E.png`` (the rolls, tracks x bars) to ``out_dir``. The noise is the same
    every time (``seed``), so the files show how the same inputs evolve. An
    accompaniment MuseGAN accompanies the phrases of ``condition`` (one sample each).
    """

    def __init__(self, out_dir: str | os.PathLike, encoding: MultiTrackPianoRoll,
                 every: int = 1, n: int = 2, seed: int = 0, tempo: float = 100.0,
                 condition: np.ndarray | None = None):
        self.out_dir, self.encoding = os.fspath(out_dir), encoding
        self.condition = condition
        n = n if condition is None else len(condition)
        self.every, self.n, self.seed, self.tempo = max(1, int(every)), int(n), seed, tempo
        self.written: list[str] = []

    def __call__(self, epoch: int, gan: MuseGAN, logs: dict) -> None:
        if epoch % self.every:
            return
        from kerasmusic.plotting import plot_roll_grid

        os.makedirs(self.out_dir, exist_ok=True)
        phrases = gan.generate(self.n, seed=self.seed, condition=self.condition)
        stem = os.path.join(self.out_dir, f"epoch_{epoch:03d}")
        for i, phrase in enumerate(phrases):
            piece = self.encoding.decode(phrase, tempo=self.tempo, name=f"epoch {epoch}")
            write_midi(piece, f"{stem}_{i}.mid")
            self.written.append(f"{stem}_{i}.mid")
        plot_roll_grid(self.encoding.binarize(phrases), stem + ".png",
                       track_names=self.encoding.track_names,
                       lowest_pitch=self.encoding.lowest_pitch,
                       title=f"MuseGAN samples after epoch {epoch}")
        self.written.append(stem + ".png")
