"""Training the recurrent C-RNN-GAN with the paper's recipe, on one device or many.

One custom loop (``GradientTape`` inside ``tf.function``) serves a single device
and any ``tf.distribute`` strategy: the loop's steps run per replica on its share
of the global batch, losses are scaled by the global batch, and gradients are summed
over replicas before clipping, so a step on N replicas equals a step on one device
with the same global batch (feature matching excepted: it compares each replica's
own batch statistics, like unsynchronised batch normalisation).

The recipe (Mogren 2016), each part an option:

- MLE pre-training of the generator, teacher-forced, squared error, with a
  curriculum: at epoch e sequences are cropped to ``min(4 (e + 1), seq_len)`` steps;
- adversarial training with the standard GAN loss, or feature matching for the
  generator (squared distance between the mean last hidden representation of the
  discriminator on real and on generated data);
- freezing: the discriminator is not updated while its loss is below
  ``freeze_threshold`` x the generator's loss, and the generator is not updated
  while its loss is below ``freeze_threshold`` x the discriminator's (decided from
  the previous step's losses; both are never frozen at once). The generator's loss
  weighed here is always its adversarial loss, also under feature matching, whose
  scale has nothing to do with the discriminator's;
- L2 weight penalty and gradient clipping by global norm.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasmusic.data.augment import DEFAULT_SHIFTS, copies_only
from kerasmusic.data.json_config import write_json_atomic
from kerasmusic.data.notes import Piece
from kerasmusic.data.scaled_tokens import ScaledTokenEncoding
from kerasmusic.data.tone_pipeline import tone_dataset
from kerasmusic.data.tones import ToneEncoding
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.crnngan import build_discriminator, build_generator
from kerasmusic.models.crnngan_recurrent import (
    build_recurrent_discriminator,
    build_recurrent_generator,
    teacher_forced_generator,
)
from kerasmusic.training.distributed import (
    apply_summed_gradients,
    check_finite,
    distributed_step,
)
from kerasmusic.validation import (
    check,
    check_count,
    check_learning_rate,
    check_positive,
    check_training,
)

_BCE = keras.losses.BinaryCrossentropy(reduction=None)


def freeze_decision(d_loss: float, g_loss: float, threshold: float | None) -> tuple[bool, bool]:
    """(freeze discriminator, freeze generator) for the next step, by the paper's rule.

    The discriminator is frozen while ``d_loss < threshold * g_loss``; the generator
    while ``g_loss < threshold * d_loss``. ``threshold=None`` never freezes.
    """
    if threshold is None or not (np.isfinite(d_loss) and np.isfinite(g_loss)):
        return False, False
    return bool(d_loss < threshold * g_loss), bool(g_loss < threshold * d_loss)


def feature_matching_loss(real_features, fake_features):
    """Squared distance between the batch means of two (batch, time, units) tensors."""
    real_mean = tf.reduce_mean(real_features, axis=[0, 1])
    fake_mean = tf.reduce_mean(fake_features, axis=[0, 1])
    return tf.reduce_sum(tf.square(real_mean - fake_mean))


@dataclasses.dataclass
class CRNNGANConfig:
    """Settings of :class:`CRNNGAN` (the defaults follow the paper where it says).

    Attributes:
        variant: "paper" (recurrent generator and discriminator, tone features) or
            "seed" (the seed chapter's MLP generator and LSTM discriminator on token
            windows scaled to [-1, 1]; no MLE pre-training, no feature matching).
        n_features: values per step (4; 12 for C-RNN-GAN-3; 1 for the seed variant).
        noise_dim: uniform noise values per step (default n_features).
        units: LSTM units per layer, generator and discriminator.
        n_layers: LSTM layers of each.
        latent_dim: noise size of the seed variant's generator (the seed: 1000).
        seq_len: window length of the seed variant (its generator makes whole windows).
        feature_matching: train the generator by feature matching (default: yes for
            the paper's variant; the seed's discriminator exposes no features).
        freeze_threshold: the freezing ratio (0.7), or None for no freezing.
        l2: weight of the L2 penalty on all weights.
        clip_norm: clip gradients to this global norm (None: no clipping).
        g_learning_rate: generator Adam learning rate.
        d_learning_rate: discriminator Adam learning rate.
        pretrain_learning_rate: Adam learning rate of MLE pre-training.
    """

    variant: str = "paper"
    n_features: int = 4
    noise_dim: int | None = None
    units: int = 350
    n_layers: int = 2
    latent_dim: int = 1000
    seq_len: int = 100
    feature_matching: bool | None = None
    freeze_threshold: float | None = 0.7
    l2: float = 1e-5
    clip_norm: float | None = 5.0
    g_learning_rate: float = 1e-3
    d_learning_rate: float = 1e-3
    pretrain_learning_rate: float = 1e-3

    def __post_init__(self):
        for name in ("n_features", "units", "n_layers", "latent_dim", "seq_len"):
            check_count(name, getattr(self, name))
        check_count("noise_dim", self.noise_dim, optional=True)
        check("freeze_threshold", self.freeze_threshold, minimum=0, maximum=1, optional=True)
        check("l2", self.l2, minimum=0)
        check_positive("clip_norm", self.clip_norm, optional=True)
        for name in ("g_learning_rate", "d_learning_rate", "pretrain_learning_rate"):
            check_learning_rate(name, getattr(self, name))


class CRNNGAN:
    """The paper's C-RNN-GAN: models, optimizers and the training loop.

    Args:
        config: a :class:`CRNNGANConfig`.
        strategy: a ``tf.distribute.Strategy`` (default: the current one); the
            models and optimizers are created in its scope.
        seed: fixes initial weights and the noise of every step.

    Example:
    ```python
    gan = CRNNGAN(CRNNGANConfig(units=64))
    history = gan.fit(dataset, epochs=10, pretrain_epochs=5, checkpoint_dir="ckpt")
    tones = gan.generate(n=4, length=100, seed=1)   # (4, 100, 4) scaled features
    ```
    """

    def __init__(self, config: CRNNGANConfig | None = None,
                 strategy: tf.distribute.Strategy | None = None, seed: int = 0):
        c = config or CRNNGANConfig()
        if c.variant not in ("paper", "seed"):
            raise KerasMusicError(f"variant must be 'paper' or 'seed', got {c.variant!r}")
        if c.feature_matching is None:
            c = dataclasses.replace(c, feature_matching=c.variant == "paper")
        if c.variant == "seed" and c.feature_matching:
            raise KerasMusicError("the seed variant's discriminator has no hidden features to "
                                  "match: use feature_matching=False")
        self.config = c
        self.strategy = strategy or tf.distribute.get_strategy()
        self.seed = int(seed)
        self.noise_dim = c.noise_dim or c.n_features
        keras.utils.set_random_seed(seed)
        with self.strategy.scope():
            if c.variant == "paper":
                self.generator = build_recurrent_generator(c.n_features, self.noise_dim,
                                                           c.units, c.n_layers)
                self.teacher = teacher_forced_generator(self.generator)
                self.discriminator = build_recurrent_discriminator(c.n_features, c.units,
                                                                   c.n_layers)
            else:
                self.generator = build_generator(c.latent_dim, (c.seq_len, c.n_features))
                self.teacher = None
                self.discriminator = build_discriminator((c.seq_len, c.n_features))
            self.g_optimizer = keras.optimizers.Adam(c.g_learning_rate, beta_1=0.5)
            self.d_optimizer = keras.optimizers.Adam(c.d_learning_rate, beta_1=0.5)
            self.mle_optimizer = keras.optimizers.Adam(c.pretrain_learning_rate)
            # Keras 3.15 under MirroredStrategy: optimizer slots must exist before the
            # first traced step (keras-team/keras#23085).
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.mle_optimizer.build(self.generator.trainable_variables)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self._gan_steps: dict[tuple[bool, bool], tf.types.experimental.GenericFunction] = {}
        self._mle_step = None

    # === Steps (per replica) ===

    def _l2(self, model: keras.Model):
        if not self.config.l2:
            return 0.0
        return self.config.l2 * tf.add_n([tf.reduce_sum(tf.square(w))
                                          for w in model.trainable_weights])

    def _apply(self, optimizer, tape, loss, model):
        grads = tape.gradient(loss, model.trainable_variables)
        apply_summed_gradients(optimizer, grads, model.trainable_variables, self.strategy,
                               self.config.clip_norm)

    def _replica_gan_step(self, real, noise, global_batch, train_d, train_g):
        n = self.strategy.num_replicas_in_sync
        with tf.GradientTape(persistent=True) as tape:
            fake = self.generator(noise, training=True)
            d_real, f_real = self._judge(real)
            d_fake, f_fake = self._judge(fake)
            d_per_example = _BCE(tf.ones_like(d_real), d_real) + _BCE(tf.zeros_like(d_fake),
                                                                      d_fake)
            d_loss = tf.nn.compute_average_loss(d_per_example, global_batch_size=global_batch)
            d_loss += self._l2(self.discriminator) / n
            # The adversarial generator loss is what freezing weighs against d_loss, also
            # when feature matching (on another scale) is what trains the generator.
            g_adversarial = tf.nn.compute_average_loss(_BCE(tf.ones_like(d_fake), d_fake),
                                                       global_batch_size=global_batch)
            if self.config.feature_matching:
                g_loss = feature_matching_loss(f_real, f_fake) / n
            else:
                g_loss = g_adversarial
            g_loss += self._l2(self.generator) / n
        if train_d:
            self._apply(self.d_optimizer, tape, d_loss, self.discriminator)
        if train_g:
            self._apply(self.g_optimizer, tape, g_loss, self.generator)
        del tape
        return d_loss, g_loss, g_adversarial

    def _judge(self, sequences):
        """(decision, hidden features or None) of the discriminator."""
        out = self.discriminator(sequences, training=True)
        return (out[0], out[1]) if isinstance(out, (list, tuple)) else (out, None)

    def _replica_mle_step(self, real, noise, global_batch):
        previous = tf.concat([tf.zeros_like(real[:, :1]), real[:, :-1]], axis=1)
        with tf.GradientTape() as tape:
            predicted = self.teacher([noise, previous], training=True)
            per_example = tf.reduce_mean(tf.square(predicted - real), axis=[1, 2])
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            loss += self._l2(self.generator) / self.strategy.num_replicas_in_sync
        self._apply(self.mle_optimizer, tape, loss, self.generator)
        return loss

    # === Steps (global) ===

    def _distributed(self, replica_fn):
        return distributed_step(self.strategy, replica_fn)

    def gan_step(self, batch, train_d: bool = True, train_g: bool = True):
        """One adversarial step on a distributed (or plain) batch of (real, noise).

        Returns the global (discriminator loss, generator loss, adversarial generator
        loss) as floats; the second is the one the generator is trained on (feature
        matching or the adversarial loss).
        """
        key = (bool(train_d), bool(train_g))
        if key not in self._gan_steps:
            self._gan_steps[key] = self._distributed(
                lambda r, z, b: self._replica_gan_step(r, z, b, *key))
        losses = self._gan_steps[key](batch)
        self.step.assign_add(1)
        return tuple(float(v) for v in losses)

    def mle_step(self, batch) -> float:
        """One teacher-forced squared-error step of the generator; returns the loss."""
        if self.teacher is None:
            raise KerasMusicError("the seed variant has no MLE pre-training (its generator "
                                  "is not recurrent): use pretrain_epochs=0")
        if self._mle_step is None:
            self._mle_step = self._distributed(self._replica_mle_step)
        loss = self._mle_step(batch)
        self.step.assign_add(1)
        return float(loss)

    def distribute(self, dataset: tf.data.Dataset, *, crop: int | None = None):
        """Add seeded uniform noise to each batch of real sequences, crop, and distribute."""
        noise_dim, seed = self.noise_dim, self.seed
        latent = self.config.latent_dim if self.config.variant == "seed" else None

        def with_noise(index, real):
            if crop is not None:
                real = real[:, :crop]
            if latent is None:  # recurrent: a noise vector per step
                shape = tf.concat([tf.shape(real)[:2], [noise_dim]], axis=0)
            else:  # the seed's MLP: one latent vector per sequence
                shape = tf.stack([tf.shape(real)[0], latent])
            noise = tf.random.stateless_uniform(
                shape, seed=tf.stack([tf.constant(seed, tf.int64), index]))
            return real, noise

        start = tf.cast(self.step, tf.int64) * 1_000_003  # new noise after a resume too
        ds = dataset.enumerate(start=start).map(with_noise)
        return self.strategy.experimental_distribute_dataset(ds)

    # === Loop ===

    def checkpoint_manager(self, directory: str | os.PathLike,
                           max_to_keep: int = 3) -> tf.train.CheckpointManager:
        """A manager over models, optimizers, epoch and step counters in ``directory``."""
        checkpoint = tf.train.Checkpoint(
            generator=self.generator, discriminator=self.discriminator,
            g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
            mle_optimizer=self.mle_optimizer, epoch=self.epoch, step=self.step)
        return tf.train.CheckpointManager(checkpoint, os.fspath(directory), max_to_keep)

    def fit(
        self,
        dataset: tf.data.Dataset,
        epochs: int = 10,
        *,
        pretrain_epochs: int = 0,
        seq_len: int | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        verbose: bool = True,
    ) -> dict[str, list[float]]:
        """MLE pre-training for ``pretrain_epochs`` epochs, then adversarial training.

        ``epochs`` counts both phases. With ``checkpoint_dir`` the latest checkpoint
        there is restored first (the run resumes at its epoch and step) and one is
        written after every epoch.

        Args:
            dataset: batches of real sequences (batch, seq_len, n_features), e.g. from
                :func:`kerasmusic.data.tone_pipeline.tone_dataset`.
            epochs: total epochs, pre-training included.
            pretrain_epochs: epochs of MLE pre-training (with the length curriculum).
            seq_len: longest length of the curriculum (default: the dataset's).
            checkpoint_dir: where to keep (and resume from) checkpoints.
            verbose: print one line per epoch.

        Returns:
            Per-epoch history: ``mle_loss`` (pre-training epochs), ``d_loss``,
            ``g_loss`` (what trains the generator), ``g_adversarial`` (the generator's
            GAN loss, which freezing compares with ``d_loss``), ``d_frozen`` and
            ``g_frozen`` (fraction of steps frozen), for the whole run: a resumed run
            reads its earlier epochs from ``history.json`` beside the checkpoints.
        """
        manager = self.checkpoint_manager(checkpoint_dir) if checkpoint_dir else None
        history: dict[str, list[float]] = {k: [] for k in
                                           ("mle_loss", "d_loss", "g_loss", "g_adversarial",
                                            "d_frozen", "g_frozen")}
        if manager and manager.latest_checkpoint:
            manager.checkpoint.restore(manager.latest_checkpoint)
            history = _saved_history(checkpoint_dir, history, int(self.epoch.numpy()),
                                     pretrain_epochs)
            if verbose:
                print(f"resumed from {manager.latest_checkpoint} at epoch "
                      f"{int(self.epoch.numpy())}, "
                      f"step {int(self.step.numpy())}", flush=True)
        seq_len = seq_len or dataset.element_spec.shape[1]
        last = (np.nan, np.nan)
        while int(self.epoch.numpy()) < epochs:
            epoch, started = int(self.epoch.numpy()), time.monotonic()
            if epoch < pretrain_epochs:
                length = min(4 * (epoch + 1), seq_len)
                losses = []
                for batch in self.distribute(dataset, crop=length):
                    losses.append(self.mle_step(batch))
                    check_finite({"mle loss": losses[-1]},
                                  f"step {len(losses)} of epoch {epoch + 1}", manager)
                history["mle_loss"].append(float(np.mean(losses)))
                line = f"mle loss {history['mle_loss'][-1]:.4f} (length {length})"
            else:
                losses, frozen = [], []
                for batch in self.distribute(dataset):
                    freeze_d, freeze_g = freeze_decision(*last, self.config.freeze_threshold)
                    step_losses = self.gan_step(batch, train_d=not freeze_d, train_g=not freeze_g)
                    check_finite(dict(zip(("d loss", "g loss", "g adversarial"), step_losses)),
                                 f"step {len(losses) + 1} of epoch {epoch + 1}", manager)
                    last = (step_losses[0], step_losses[2])  # d loss vs adversarial g loss
                    losses.append(step_losses)
                    frozen.append((freeze_d, freeze_g))
                means = np.mean(losses, axis=0)
                for key, value in zip(("d_loss", "g_loss", "g_adversarial"), means):
                    history[key].append(float(value))
                history["d_frozen"].append(float(np.mean([f[0] for f in frozen])))
                history["g_frozen"].append(float(np.mean([f[1] for f in frozen])))
                line = (f"d loss {history['d_loss'][-1]:.4f}, g loss {history['g_loss'][-1]:.4f}"
                        f", frozen: d {history['d_frozen'][-1]:.0%} g "
                        f"{history['g_frozen'][-1]:.0%} of steps")
            self.epoch.assign_add(1)
            if manager:
                # History first: a kill between the two leaves it one epoch ahead, which
                # resuming cuts back; never a checkpoint without its epoch's history.
                write_json_atomic(os.path.join(os.fspath(checkpoint_dir), "history.json"),
                                  history)
                manager.save(checkpoint_number=int(self.epoch.numpy()))
            if verbose:
                print(f"epoch {epoch + 1}/{epochs} ({time.monotonic() - started:.1f} s): {line}",
                      file=sys.stdout, flush=True)
        return history

    def generate(self, n: int, length: int, seed: int = 0) -> np.ndarray:
        """Free-running samples: (n, length, n_features), in the encoding's scaled units.

        The seed variant always makes windows of ``config.seq_len``.
        """
        if self.config.variant == "seed":
            if length != self.config.seq_len:
                raise KerasMusicError(f"the seed variant makes windows of {self.config.seq_len}"
                                      f" steps, not {length}")
            shape = (n, self.config.latent_dim)
        else:
            shape = (n, length, self.noise_dim)
        noise = tf.random.stateless_uniform(shape, seed=[seed, 7])
        return keras.ops.convert_to_numpy(self.generator(noise, training=False))


def _saved_history(directory, empty: dict, epochs: int, pretrain_epochs: int) -> dict:
    """The history in ``directory``'s history.json, cut to the ``epochs`` the restored
    checkpoint has seen (pre-training epochs give ``mle_loss``, the others the GAN keys)."""
    try:
        with open(os.path.join(os.fspath(directory), "history.json"), encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return empty
    mle = min(epochs, pretrain_epochs)
    return {key: [float(v) for v in saved.get(key, [])][:mle if key == "mle_loss"
                                                         else epochs - mle]
            for key in empty}


@dataclasses.dataclass
class CRNNGANResult:
    """What :func:`train_crnngan` returns: the trained GAN, its encoding and history."""

    gan: CRNNGAN
    encoding: ToneEncoding | ScaledTokenEncoding
    history: dict[str, list[float]]


def train_crnngan(
    pieces: Sequence[Piece],
    *,
    variant: str = "paper",
    tracks: Sequence[int] | None = None,
    tones_per_cell: int = 1,
    seq_len: int = 100,
    batch_size: int = 32,
    steps_per_epoch: int | None = None,
    epochs: int = 20,
    pretrain_epochs: int = 5,
    config: CRNNGANConfig | None = None,
    strategy: tf.distribute.Strategy | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    transpose: Sequence[int] | None = DEFAULT_SHIFTS,
    seed: int = 0,
    verbose: bool = True,
) -> CRNNGANResult:
    """Fit an encoding on ``pieces`` and train a :class:`CRNNGAN` on random crops.

    The paper's variant trains on :class:`ToneEncoding` features;
    ``pretrain_epochs == epochs`` then trains the paper's baseline, the same generator
    trained only by MLE to predict the next tone. The seed variant trains on
    :class:`ScaledTokenEncoding` windows (set ``pretrain_epochs=0``).

    Args:
        pieces: the training pieces.
        variant: "paper" or "seed".
        tracks: tracks to read (None: every non-drum track).
        tones_per_cell: 1, or 3 for C-RNN-GAN-3.
        seq_len: length of the training crops (the paper: up to 100).
        batch_size: global batch size (divisible by the number of replicas).
        steps_per_epoch: batches per epoch (default: about one pass over the corpus).
        epochs: epochs in all, MLE pre-training included.
        pretrain_epochs: epochs of MLE pre-training first.
        config: model and recipe settings; ``n_features`` is set from the encoding.
        strategy: a ``tf.distribute.Strategy`` (default: the current one).
        checkpoint_dir: keep checkpoints there and resume from the latest.
        transpose: semitone shifts for transposition augmentation: crops are also cut
            from the pieces' transposed copies (the encoding is fitted on them too);
            an epoch keeps its length. None or ``()`` for the pieces as written.
        seed: fixes weights, crops and noise.
        verbose: print one line per epoch.

    Raises:
        InvalidArgumentError: an argument out of its range (named in the message).
    """
    check_training(epochs=epochs, batch_size=batch_size, seq_len=seq_len,
                   steps_per_epoch=steps_per_epoch, tones_per_cell=tones_per_cell)
    check("pretrain_epochs", pretrain_epochs, minimum=0, maximum=epochs, integer=True)
    copies = copies_only(pieces, transpose, seed=seed)
    if variant == "seed":
        encoding = ScaledTokenEncoding(tracks=tracks).fit([*pieces, *copies])
    else:
        encoding = ToneEncoding(tones_per_cell, tracks).fit([*pieces, *copies])
    dataset = tone_dataset(pieces, encoding, seq_len, batch_size, steps_per_epoch, seed,
                           copies=copies)
    config = dataclasses.replace(config or CRNNGANConfig(), variant=variant, seq_len=seq_len,
                                 n_features=encoding.n_features)
    gan = CRNNGAN(config, strategy=strategy, seed=seed)
    history = gan.fit(dataset, epochs, pretrain_epochs=pretrain_epochs, seq_len=seq_len,
                      checkpoint_dir=checkpoint_dir, verbose=verbose)
    return CRNNGANResult(gan, encoding, history)
