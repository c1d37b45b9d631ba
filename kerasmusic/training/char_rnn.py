"""Training character RNNs: truncated BPTT, gradient clipping, perplexity, best checkpoint.

The loop is a plain ``tf.GradientTape`` loop over :func:`text_dataset` batches. In
``"consecutive"`` mode the LSTM state left by batch ``t`` is the initial state of
batch ``t + 1`` (gradients stop at the batch boundary: truncated backpropagation
through time) and is reset to zero at the start of every epoch; in ``"random"``
mode every batch starts from zero. The validation text is read the same way.
Each epoch reports the training loss and perplexity and the validation perplexity,
next to a character-bigram baseline, and the weights of the best validation epoch
are kept (and saved, with ``out=``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import tensorflow as tf

from kerasmusic.data.json_config import write_json_atomic
from kerasmusic.data.text import (
    CharEncoding,
    TextCorpus,
    as_text_corpus,
    split_corpus,
    text_dataset,
    validation_dataset,
)
from kerasmusic.errors import KerasMusicError
from kerasmusic.models.char_rnn import CharRNNCore, build_char_rnn, check_char_encoding
from kerasmusic.quality import (
    QualityReport,
    _text_pairs,
    backoff_bigram_nll,
    char_rnn_quality,
)
from kerasmusic.saving import quality_path, save_model
from kerasmusic.training.distributed import apply_summed_gradients, check_finite
from kerasmusic.validation import check_count, check_rate, check_training


@dataclasses.dataclass
class CharRNNResult:
    """What :func:`train_char_rnn` returns.

    Attributes:
        model: the trained model, holding the weights of the best validation epoch.
        encoding: the character (and label) encoding to save and generate with.
        history: per epoch: ``loss`` and ``perplexity`` (training), ``val_loss`` and
            ``val_perplexity``, ``seconds``.
        best_epoch: 1-based epoch whose weights the model holds (None without validation).
        bigram_perplexity: the character-bigram count model's perplexity on the same
            validation characters: the baseline to beat (``quality`` has the details).
        initial_val_perplexity: validation perplexity before training (about the
            alphabet size).
        path: where the best model was saved (with ``out=``), else None.
        quality: the held-out quality report of the kept weights (per-character NLL
            next to the unigram and bigram; None without validation), also saved as
            ``char_rnn.quality.json`` with ``out=``.
    """

    model: keras.Model
    encoding: CharEncoding
    history: dict[str, list[float]]
    best_epoch: int | None = None
    bigram_perplexity: float | None = None
    initial_val_perplexity: float | None = None
    path: Path | None = None
    quality: QualityReport | None = None

    @property
    def best_val_perplexity(self) -> float | None:
        """Validation perplexity of the kept weights."""
        if self.best_epoch is None:
            return None
        return self.history["val_perplexity"][self.best_epoch - 1]


def _unpack(inputs):
    if isinstance(inputs, Mapping):
        return inputs["chars"], inputs.get("labels")
    return inputs, None


def make_char_rnn_train_step(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer | None = None,
    loss: keras.losses.Loss | None = None,
    *,
    checkpoint_every: int | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> Callable:
    """A compiled step ``(inputs, targets, state=None) -> (loss, next state)`` updating ``model``.

    Args:
        model: a :func:`build_char_rnn` model (built in ``strategy``'s scope).
        optimizer: default the model's compiled optimizer (Adam with global-norm
            clipping), or a new ``Adam`` for an uncompiled model.
        loss: a ``keras.losses.Loss`` (default sparse categorical cross-entropy from
            logits); its per-character values are averaged over the global batch.
        checkpoint_every: recompute the LSTM stack in segments of this many steps
            during the backward pass (:meth:`CharRNNCore.recur`).
        strategy: a ``tf.distribute.Strategy`` (default: the current one). Feed it
            batches of ``strategy.experimental_distribute_dataset``; each replica
            carries the state of its own rows.

    ``state=None`` starts from zeros. The returned state (per replica under a
    strategy) has its gradient stopped: feed it to the next step for truncated BPTT.
    The loss is the mean over the global batch, and the gradient is summed over
    replicas before clipping, so a step on N replicas is the one-device step.
    """
    strategy = strategy or tf.distribute.get_strategy()
    core = CharRNNCore(model)
    with strategy.scope():
        optimizer = optimizer or getattr(model, "optimizer", None) or keras.optimizers.Adam(
            learning_rate=2e-3, global_clipnorm=5.0)
        if not optimizer.built:  # slots must exist before the first traced step
            optimizer.build(model.trainable_variables)
    loss = loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Unreduced: a Keras loss reducing inside a replica also divides by the replicas.
    try:
        per_char = type(loss).from_config({**loss.get_config(), "reduction": None})
    except (AttributeError, TypeError, ValueError) as exc:
        raise KerasMusicError(f"loss must be a keras.losses.Loss that can be rebuilt from "
                              f"its config with reduction=None: {exc}") from exc
    variables = model.trainable_variables

    def replica_step(inputs, targets, state):
        chars, labels = _unpack(inputs)
        ctx = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            logits, new_state = core(chars, labels, state, training=True,
                                     checkpoint_every=checkpoint_every)
            # Summed per character (masks applied), divided by the global batch's
            # characters (a last random-window batch may be short): the global mean.
            # Counts are all-reduced as float32: GPU collectives refuse int32.
            values = tf.cast(per_char(targets, logits), tf.float32)
            total = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                                   tf.cast(tf.size(values), tf.float32))
            value = tf.reduce_sum(values) / total
            # The loss scaling of a LossScaleOptimizer (mixed precision); else the loss.
            scaled = optimizer.scale_loss(value)
        grads = tape.gradient(scaled, variables)
        apply_summed_gradients(optimizer, grads, variables, strategy)
        return value, tuple(tf.stop_gradient(s) for s in new_state)

    @tf.function(reduce_retracing=True)
    def step(inputs, targets, state=None):
        value, new_state = strategy.run(replica_step, args=(inputs, targets, state))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None), new_state

    return step


def _eval_step(model: keras.Model) -> Callable:
    core = CharRNNCore(model)
    total = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")

    @tf.function(reduce_retracing=True)
    def step(inputs, targets, state):
        chars, labels = _unpack(inputs)
        logits, new_state = core(chars, labels, state)
        return total(targets, logits), tf.size(targets), new_state

    return step


def evaluate_perplexity(
    model: keras.Model, dataset: tf.data.Dataset, *, carry_state: bool = True
) -> tuple[float, float]:
    """Mean cross-entropy (nats per character) and perplexity of ``model`` on ``dataset``.

    Args:
        carry_state: carry the LSTM state from batch to batch (for consecutive
            batches); False starts every batch from zero (random windows).
    """
    return _evaluate(model, _eval_step(model), dataset, carry_state)


def _evaluate(model, step, dataset, carry_state) -> tuple[float, float]:
    core = CharRNNCore(model)
    state, total, count = None, 0.0, 0
    for inputs, targets in dataset:
        if state is None or not carry_state:
            state = core.zero_state(tf.shape(targets)[0])
        value, n, state = step(inputs, targets, state)
        total += float(value)
        count += int(n)
    if not count:
        raise KerasMusicError("no characters to evaluate on")
    mean = total / count
    return mean, math.exp(mean)


def bigram_perplexity(train_ids, vocab_size: int, dataset: tf.data.Dataset,
                      smoothing: float = 5.0) -> float:
    """Perplexity of a character-bigram model on the (input, target) pairs of ``dataset``.

    ``p(b | a) = (count(a, b) + smoothing * p(b)) / (count(a) + smoothing)``, the
    bigram counts of ``train_ids`` backed off to their add-one unigram ``p(b)``.
    Scored on exactly the characters :func:`evaluate_perplexity` scores, so the
    two perplexities compare directly.
    """
    return math.exp(backoff_bigram_nll(train_ids, vocab_size, *_text_pairs(dataset),
                                       smoothing=smoothing))


def train_char_rnn(
    source: TextCorpus | str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    labels: Sequence[str] | Mapping[str, str] | str | os.PathLike | None = None,
    *,
    encoding: CharEncoding | None = None,
    model: keras.Model | None = None,
    mode: str = "consecutive",
    seq_len: int = 64,
    batch_size: int = 32,
    embed_size: int | None = 32,
    label_embed_size: int | None = None,
    rnn_units: int = 256,
    n_layers: int = 1,
    dropout: float = 0.0,
    epochs: int = 60,
    learning_rate: float = 3e-3,
    clipnorm: float | None = 5.0,
    validation_fraction: float = 0.1,
    checkpoint_every: int | None = None,
    max_seconds: float | None = None,
    patience: int | None = 8,
    limit: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    strategy: tf.distribute.Strategy | None = None,
    seed: int = 0,
    verbose: int = 1,
) -> CharRNNResult:
    """Train a character-level LSTM (conditional when there are labels) on text.

    Args:
        source: what to train on (:func:`kerasmusic.data.text.as_text_corpus`): None
            for the bundled chorale lyrics, text files / folders, a ``.csv`` file,
            or a :class:`TextCorpus`.
        labels: a label per document / file (a list, a mapping, a label file; for a
            CSV, the label column): trains a conditional model.
        encoding: reuse this encoding (default: fit one on the whole corpus).
        model: continue training this model (default: a new :func:`build_char_rnn`).
        mode: ``"consecutive"`` (TBPTT, state carried across batches, reset each
            epoch) or ``"random"`` (shuffled windows, state reset every batch).
        seq_len: characters per window: the BPTT truncation length.
        batch_size: rows per batch: the global batch, split over the replicas of
            ``strategy`` (keep it a multiple of their number).
        embed_size, label_embed_size, rnn_units, n_layers, dropout: the model
            (:func:`build_char_rnn`; None embedding sizes mean one-hot).
        epochs: epochs to train.
        learning_rate: Adam learning rate.
        clipnorm: gradient clipping by global norm (None: none).
        validation_fraction: documents held out (the end of the text if there is
            only one document); 0 trains on everything and keeps the last weights.
        checkpoint_every: gradient checkpointing segment length (None: off).
        max_seconds: stop after this much training time (the epoch is cut short).
        patience: stop after this many epochs without a better validation perplexity
            (None: train every epoch). The best epoch's weights are kept either way.
        limit: chorale files to read for the bundled lyrics.
        cache_dir: cache for the bundled lyrics.
        out: folder for ``char_rnn.keras`` (best validation weights, with its
            encoding beside and inside) and ``history.json``.
        strategy: a ``tf.distribute.Strategy`` to train under (default: the current
            one); a new model is built in its scope, a given one must have been.
        seed: fixes the weights, the split and the shuffling.
        verbose: 1 prints a line per epoch, 0 nothing.

    Raises:
        InvalidArgumentError: an argument out of its range (named in the message).
    """
    check_training(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                   max_seconds=max_seconds, seq_len=seq_len, rnn_units=rnn_units,
                   n_layers=n_layers, embed_size=embed_size, label_embed_size=label_embed_size,
                   checkpoint_every=checkpoint_every, limit=limit)
    check_rate("dropout", dropout)
    check_count("patience", patience, minimum=0, optional=True)
    keras.utils.set_random_seed(seed)
    corpus = as_text_corpus(source, labels, limit=limit, cache_dir=cache_dir)
    encoding = encoding or CharEncoding.fit(corpus)
    train, val = split_corpus(corpus, validation_fraction, seed)
    train_ids, train_labels = encoding.stream(train)
    train_ds = text_dataset(train_ids, seq_len, batch_size, mode=mode, label_ids=train_labels,
                            seed=seed)
    val_ds = None
    if val is not None:
        val_ids, val_labels = encoding.stream(val)
        val_ds = validation_dataset(val_ids, seq_len, batch_size, mode=mode,
                                    label_ids=val_labels)
    strategy = strategy or tf.distribute.get_strategy()
    if model is None:
        with strategy.scope():
            model = build_char_rnn(encoding.vocab_size, n_labels=encoding.n_labels,
                                   embed_size=embed_size, label_embed_size=label_embed_size,
                                   rnn_units=rnn_units, n_layers=n_layers, dropout=dropout,
                                   learning_rate=learning_rate, clipnorm=clipnorm)
    check_char_encoding(model, encoding)
    train_step = make_char_rnn_train_step(model, checkpoint_every=checkpoint_every,
                                          strategy=strategy)
    train_batches = strategy.experimental_distribute_dataset(train_ds)
    eval_step = _eval_step(model)
    carry = mode == "consecutive"
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    bigram = initial = baseline = None
    if val_ds is not None:
        initial_nll = _evaluate(model, eval_step, val_ds, carry)[0]
        baseline = char_rnn_quality(model, encoding, train_ids, val_ds, carry_state=carry,
                                    model_nll=initial_nll,
                                    data=f"{len(val)} held-out documents")
        initial, bigram = math.exp(initial_nll), math.exp(baseline["characters"].bigram)
        if verbose:
            print(f"{len(train)} training / {len(val)} validation documents, "
                  f"{encoding.vocab_size} characters; validation perplexity: untrained "
                  f"{initial:.2f}, character bigram {bigram:.2f}", flush=True)
    history: dict[str, list[float]] = {"loss": [], "perplexity": [], "val_loss": [],
                                       "val_perplexity": [], "seconds": []}
    best_epoch, best, best_weights, saved = None, math.inf, None, None
    start = time.monotonic()
    for epoch in range(1, epochs + 1):
        t0 = time.monotonic()
        state, total, batches, out_of_time = None, 0.0, 0, False
        for inputs, targets in train_batches:
            # None: zeros at each epoch start (and at every batch for random windows).
            value, state = train_step(inputs, targets, state if carry else None)
            check_finite({"loss": float(value)}, f"batch {batches + 1} of epoch {epoch}",
                         last_good=str(saved) if saved else None)
            total += float(value)
            batches += 1
            if max_seconds is not None and time.monotonic() - start > max_seconds:
                out_of_time = True
                break
        loss = total / max(batches, 1)
        history["loss"].append(loss)
        history["perplexity"].append(math.exp(loss))
        line = f"epoch {epoch}/{epochs}: loss {loss:.3f}, perplexity {math.exp(loss):.2f}"
        if val_ds is not None:
            val_loss, val_ppl = _evaluate(model, eval_step, val_ds, carry)
            history["val_loss"].append(val_loss)
            history["val_perplexity"].append(val_ppl)
            line += f", validation perplexity {val_ppl:.2f} (bigram {bigram:.2f})"
            if val_ppl < best:
                best, best_epoch = val_ppl, epoch
                best_weights = model.get_weights()
                line += ", best"
                if out is not None:
                    saved = _save(model, encoding, out)
        history["seconds"].append(time.monotonic() - t0)
        if verbose:
            print(f"{line}, {history['seconds'][-1]:.1f} s", flush=True)
        if out is not None:
            write_json_atomic(out / "history.json", history, indent=1)  # whole, even if killed
        if out_of_time:
            if verbose:
                print(f"stopping: max_seconds={max_seconds} reached", flush=True)
            break
        if patience is not None and best_epoch is not None and epoch - best_epoch >= patience:
            if verbose:
                print(f"stopping: no better validation perplexity for {patience} epochs",
                      flush=True)
            break
    quality = None
    if best_weights is not None:
        model.set_weights(best_weights)
        quality = char_rnn_quality(model, encoding, train_ids, val_ds, carry_state=carry,
                                   model_nll=history["val_loss"][best_epoch - 1],
                                   data=baseline.data)
        if verbose:
            print(quality.table(), flush=True)
        if saved is not None:
            quality.save(quality_path(saved))
    elif out is not None:
        saved = _save(model, encoding, out)
    return CharRNNResult(model, encoding, history, best_epoch, bigram, initial, saved, quality)


def _save(model: keras.Model, encoding: CharEncoding, out: Path) -> Path:
    path = out / "char_rnn.keras"
    save_model(model, path, encoding)
    return path
