"""Pieces shared by the library's custom training loops under ``tf.distribute``."""

from __future__ import annotations

import math
from collections.abc import Mapping

import keras
import tensorflow as tf

from kerasmusic.errors import NonFiniteLossError


def check_finite(losses: Mapping[str, float], where: str, manager=None, *,
                 last_good: str | None = None) -> None:
    """Stop training at the step a loss turns NaN or infinite, before anything is saved.

    Args:
        losses: the step's losses by name.
        where: the step, e.g. "critic step 12 (epoch 3)".
        manager: the run's ``tf.train.CheckpointManager``, to name the last good checkpoint.
        last_good: or the last good checkpoint's name, where there is no manager.

    Raises:
        NonFiniteLossError: naming the losses, the step and the last good checkpoint.
    """
    bad = {name: value for name, value in losses.items() if not math.isfinite(value)}
    if bad:
        values = ", ".join(f"{name} = {value}" for name, value in bad.items())
        raise non_finite_error(f"{values} at {where}", manager, last_good=last_good)


def non_finite_error(what: str, manager=None, *,
                     last_good: str | None = None) -> NonFiniteLossError:
    """The error for ``what`` went NaN / Inf (e.g. ``"loss = nan at batch 3 of epoch 1"``),
    naming the last good checkpoint (from ``manager`` or ``last_good``) and what to try."""
    latest = manager.latest_checkpoint if manager is not None else last_good
    saved = (f"the last good checkpoint is {latest}; nothing after it was saved"
             if latest else "no checkpoint had been written")
    return NonFiniteLossError(
        f"{what}: training stopped; {saved}. Try a lower learning rate or "
        "check the data for NaN / Inf values")


def apply_summed_gradients(optimizer, grads, variables, strategy: tf.distribute.Strategy,
                           clip_norm: float | None = None) -> None:
    """Sum gradients over replicas, optionally clip the global gradient, apply it.

    Called inside ``strategy.run``. Each replica's loss is scaled by the global batch,
    so the sum is the gradient of the global batch: one step on N replicas equals one
    step on one device. Clipping after the sum (``clip_norm``, and the optimizer's own
    ``clipnorm`` / ``global_clipnorm`` / ``clipvalue``) clips the true global gradient.
    """
    pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
    # Embedding gradients come as IndexedSlices: sum them dense, like the optimizer would.
    grads = [tf.convert_to_tensor(g) for g, _ in pairs]
    variables = [v for _, v in pairs]
    ctx = tf.distribute.get_replica_context()
    grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads)
    # Under loss scaling the gradients are scaled too: so are the clip thresholds.
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    if scaled:
        scale, clipper = optimizer.dynamic_scale, optimizer.inner_optimizer
    else:
        scale, clipper = getattr(optimizer, "loss_scale_factor", None) or 1.0, optimizer
    raw = grads
    if clip_norm:
        grads, _ = tf.clip_by_global_norm(grads, clip_norm * scale)
    # A Keras optimizer clips each replica's share before summing them, which is not
    # the clip of the sum: clip the sum here with the optimizer's own setting, so the
    # optimizer's clip of each (smaller) share changes nothing.
    if getattr(clipper, "clipnorm", None):
        grads = [tf.clip_by_norm(g, clipper.clipnorm * scale) for g in grads]
    elif getattr(clipper, "global_clipnorm", None):
        grads, _ = tf.clip_by_global_norm(grads, clipper.global_clipnorm * scale)
    elif getattr(clipper, "clipvalue", None):
        limit = clipper.clipvalue * scale
        grads = [tf.clip_by_value(g, -limit, limit) for g in grads]
    if scaled:
        # The LossScaleOptimizer must still see an overflow (clip_by_value hides inf),
        # to skip the step and lower its scale.
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in raw])
        grads = [tf.where(finite, g, r) for g, r in zip(grads, raw)]
    # The optimizer sums over replicas once more: hand each replica its share.
    n = strategy.num_replicas_in_sync
    optimizer.apply_gradients(zip([g / n for g in grads], variables))


def distributed_step(strategy: tf.distribute.Strategy, replica_fn):
    """A ``tf.function`` running ``replica_fn(*batch, global_batch)`` on every replica.

    Batches must be full and split evenly, so the global batch is the local batch
    times the replicas. Returned values are summed over replicas (losses already
    scaled by the global batch sum to the global mean).
    """
    n = strategy.num_replicas_in_sync

    def per_replica(*batch):
        return replica_fn(*batch, tf.shape(tf.nest.flatten(batch)[0])[0] * n)

    def step(batch):
        values = strategy.run(per_replica, args=tuple(batch))
        return tf.nest.map_structure(
            lambda v: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None), values)

    return tf.function(step, reduce_retracing=True)
