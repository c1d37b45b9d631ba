"""Held-out quality of a model next to the count models an expert would compare it with.

A model of music is worth something only if it predicts held-out music better than
counting does. For every stream a model predicts (pitch and duration tokens, ...)
this module measures the model's negative log-likelihood on the held-out targets,
in nats per token, and the NLL of two add-k count models fitted on the training
tokens and scored on exactly the same targets:

- unigram: ``p(x) = (c(x) + k) / (N + k V)``;
- bigram: ``p(x | y) = (c(y, x) + k) / (c(y) + k V)``, ``y`` the previous token (the
  start token before a piece's first).

``V`` is the model's vocabulary size, so all three spread their mass over the same
tokens. The baselines get their best case: ``k`` is chosen on the held-out targets
from :data:`SMOOTHING_GRID`, and where the model was trained on transposed copies
the count models are fitted both with and without them and the lower NLL is kept.
(The model's early stopping also looks at the held-out loss, so both sides pick one
number on it.)

:func:`note_lstm_quality` measures the attention LSTM; :class:`QualityReport` prints
the table and saves it as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence

import numpy as np

from kerasmusic.data.json_config import write_json_atomic
from kerasmusic.errors import KerasMusicError

#: Add-k values tried for the count models (the best on the held-out data is kept).
SMOOTHING_GRID: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)


def _pairs(sequences: Sequence[Sequence[int]], start_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(context, target) ids of every target; each sequence's first context is ``start_id``."""
    contexts, targets = [], []
    for seq in sequences:
        seq = np.asarray(seq, dtype=np.int64)
        if len(seq) == 0:
            continue
        targets.append(seq)
        contexts.append(np.concatenate([[start_id], seq[:-1]]))
    if not targets:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(contexts), np.concatenate(targets)


def ngram_nll(
    train: Sequence[Sequence[int]],
    heldout: Sequence[Sequence[int]],
    vocab_size: int,
    *,
    order: int = 2,
    k: float | None = None,
    start_id: int = 0,
) -> tuple[float, float]:
    """Mean NLL (nats per target) of an add-k unigram (``order=1``) or bigram model.

    Args:
        train: token id sequences to count, each the targets of one piece (the piece
            end included, if the model predicts it).
        heldout: the sequences to score, in the same form.
        vocab_size: number of possible ids (ids are ``0..vocab_size-1``).
        order: 1 (unigram) or 2 (bigram: the previous id is the context).
        k: the add-k constant; None picks the best of :data:`SMOOTHING_GRID` on
            ``heldout``.
        start_id: the context of each sequence's first target.

    Returns:
        (mean NLL in nats, the k used).
    """
    train_ctx, train_tgt = _pairs(train, start_id)
    ctx, tgt = _pairs(heldout, start_id)
    return pair_ngram_nll(train_ctx, train_tgt, ctx, tgt, vocab_size, order=order, k=k)


def pair_ngram_nll(
    train_contexts: np.ndarray,
    train_targets: np.ndarray,
    contexts: np.ndarray,
    targets: np.ndarray,
    vocab_size: int,
    *,
    order: int = 2,
    k: float | None = None,
) -> tuple[float, float]:
    """:func:`ngram_nll` on explicit (context, target) id pairs, e.g. of a text stream.

    Returns:
        (mean NLL in nats over ``targets``, the k used).
    """
    if order not in (1, 2):
        raise KerasMusicError(f"order must be 1 or 2, got {order}")
    if vocab_size < 1:
        raise KerasMusicError(f"vocab_size must be positive, got {vocab_size}")
    train_ctx, train_tgt, ctx, tgt = (np.asarray(a, np.int64).reshape(-1) for a in
                                      (train_contexts, train_targets, contexts, targets))
    if len(train_ctx) != len(train_tgt) or len(ctx) != len(tgt):
        raise KerasMusicError("contexts and targets must have the same length")
    if len(tgt) == 0:
        raise KerasMusicError("no held-out targets to score")
    for ids in (train_tgt, tgt, train_ctx, ctx):
        if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
            raise KerasMusicError(f"token ids must be in [0, {vocab_size})")
    if order == 1:
        counts = np.bincount(train_tgt, minlength=vocab_size).astype(np.float64)
        joint, context_total = counts[tgt], np.full(len(tgt), float(len(train_tgt)))
    else:
        # Pair counts looked up by code, so a large vocabulary needs no V x V table.
        codes, seen = np.unique(train_ctx * vocab_size + train_tgt, return_counts=True)
        codes, seen = np.append(codes, -1), np.append(seen, 0)  # a miss finds count 0
        query = ctx * vocab_size + tgt
        where = np.minimum(np.searchsorted(codes[:-1], query), len(codes) - 1)
        joint = np.where(codes[where] == query, seen[where], 0).astype(float)
        context_total = np.bincount(train_ctx, minlength=vocab_size).astype(float)[ctx]

    def nll(kk: float) -> float:
        return float(-np.mean(np.log((joint + kk) / (context_total + kk * vocab_size))))

    if k is not None:
        return nll(float(k)), float(k)
    return min((nll(kk), kk) for kk in SMOOTHING_GRID)


@dataclasses.dataclass
class StreamQuality:
    """One predicted stream's held-out figures.

    Attributes:
        name: the stream ("pitch", "duration", ...).
        model: the model's mean NLL per target.
        unigram: the add-k unigram's NLL on the same targets.
        bigram: the add-k bigram's NLL on the same targets.
        n_targets: how many held-out targets were scored.
        unit: what the NLLs are per ("nats/token").
        unknown_fraction: share of held-out targets that are the unknown token.
        bigram_k: the add-k constant of the bigram.
        bigram_fit: what the bigram was counted on ("train" or "train+transposed").
    """

    name: str
    model: float
    unigram: float
    bigram: float
    n_targets: int
    unit: str = "nats/token"
    unknown_fraction: float = 0.0
    bigram_k: float = 0.0
    bigram_fit: str = "train"

    @property
    def ratio(self) -> float:
        """Model NLL / bigram NLL: below 1 means the model beats the bigram."""
        return self.model / self.bigram if self.bigram else math.inf


@dataclasses.dataclass
class QualityReport:
    """Held-out quality of one model: a row per stream against the count baselines.

    Attributes:
        model: what was measured (e.g. "attention LSTM").
        data: the held-out data in words (e.g. "34 held-out pieces").
        streams: one :class:`StreamQuality` per predicted stream.
        notes: remarks printed under the table.
    """

    model: str
    data: str
    streams: list[StreamQuality]
    notes: list[str] = dataclasses.field(default_factory=list)

    def __getitem__(self, name: str) -> StreamQuality:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(name)

    @property
    def beats_bigram(self) -> bool:
        """True when the model's NLL is below the bigram's on every stream."""
        return all(s.model < s.bigram for s in self.streams)

    def table(self) -> str:
        """The report as an aligned text table, ready to print."""
        head = f"held-out quality: {self.model}, {self.data}"
        rows = [("stream", "model", "unigram", "bigram", "model/bigram", "targets", "unknown")]
        for s in self.streams:
            rows.append((s.name, f"{s.model:.3f}", f"{s.unigram:.3f}", f"{s.bigram:.3f}",
                         f"{s.ratio:.3f}", str(s.n_targets), f"{100 * s.unknown_fraction:.1f}%"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [head] + ["  " + "  ".join(c.rjust(w) if i else c.ljust(w)
                                           for i, (c, w) in enumerate(zip(r, widths)))
                          for r in rows]
        units = sorted({s.unit for s in self.streams})
        lines.append(f"  NLL in {', '.join(units)}; lower is better. "
                     + ("The model beats the bigram on every stream."
                        if self.beats_bigram else "The model does NOT beat the bigram "
                        "on every stream."))
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict (each stream with its ratio)."""
        return {"model": self.model, "data": self.data, "notes": list(self.notes),
                "beats_bigram": self.beats_bigram,
                "streams": [dataclasses.asdict(s) | {"ratio": s.ratio} for s in self.streams]}

    @classmethod
    def from_dict(cls, data: dict) -> QualityReport:
        """Inverse of :meth:`to_dict`."""
        fields = {f.name for f in dataclasses.fields(StreamQuality)}
        streams = [StreamQuality(**{k: v for k, v in s.items() if k in fields})
                   for s in data["streams"]]
        return cls(data["model"], data["data"], streams, list(data.get("notes", [])))

    def save(self, path: str | os.PathLike) -> None:
        """Write the report as JSON (atomically: a reader never sees half a file)."""
        write_json_atomic(path, self.to_dict(), indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> QualityReport:
        """Read a report written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


def _training_fits(train: Sequence, augmented: Sequence | None) -> dict[str, Sequence]:
    """The training sets the count models are fitted on: as written, and with copies."""
    fits = {"train": train}
    if augmented is not None and len(augmented) > len(train):
        fits["train+transposed"] = augmented
    return fits


def _fitted_on(fits: dict[str, Sequence]) -> str:
    n = len(fits["train"])
    return (f"{n} training pieces" + (" (and on their transposed copies; the better fit "
                                       "kept)" if len(fits) > 1 else ""))


def _held_out(n: int) -> str:
    return f"{n} held-out piece{'s' if n != 1 else ''}"


def stream_quality(
    name: str,
    model_nll: float,
    heldout: Sequence[Sequence[int]],
    train_sets: dict[str, Sequence[Sequence[int]]],
    vocab_size: int,
    *,
    unknown_id: int | None = None,
    unit: str = "nats/token",
    start_id: int = 0,
) -> StreamQuality:
    """Put a model's NLL on ``heldout`` next to count models fitted on each of ``train_sets``.

    Args:
        name: the stream's name.
        model_nll: the model's mean NLL per target on ``heldout``.
        heldout: held-out target id sequences (one per piece).
        train_sets: training target sequences to count, by a label such as "train"
            or "train+transposed"; the count models keep the set that scores best.
        vocab_size: the model's vocabulary size for this stream.
        unknown_id: the unknown token's id, to report its share of the targets.
        unit: unit of the NLLs.
        start_id: context of each sequence's first target.
    """
    uni = min(ngram_nll(t, heldout, vocab_size, order=1, start_id=start_id)[0]
              for t in train_sets.values())
    (bigram, k), fit = min((ngram_nll(t, heldout, vocab_size, order=2, start_id=start_id), label)
                           for label, t in train_sets.items())
    targets = np.concatenate([np.asarray(s) for s in heldout if len(s)])
    unknown = 0.0 if unknown_id is None else float(np.mean(targets == unknown_id))
    return StreamQuality(name, float(model_nll), uni, bigram, int(len(targets)), unit, unknown,
                         k, fit)


def note_lstm_quality(
    model,
    encoding,
    train_pieces: Sequence,
    heldout_pieces: Sequence,
    *,
    augmented_train: Sequence | None = None,
    batch_size: int = 256,
    name: str = "attention LSTM",
) -> QualityReport:
    """Held-out pitch and duration NLL of an attention LSTM against count baselines.

    Args:
        model: a model from :func:`~kerasmusic.create_network`.
        encoding: its :class:`~kerasmusic.NoteDurationEncoding`.
        train_pieces: the training pieces as written (the count models' data).
        heldout_pieces: the pieces to score (never seen in training).
        augmented_train: the training pieces with their transposed copies, if the
            model was trained on them (the count models are fitted on both).
        batch_size: windows per prediction batch.
        name: the model's name in the report.

    The targets are every event of each held-out piece and its closing start token,
    each predicted from the ``seq_len`` events before it (start tokens before the
    piece's first), as in training.
    """
    from kerasmusic.data.pipeline import note_duration_arrays

    if not heldout_pieces:
        raise KerasMusicError("no held-out pieces to measure quality on")
    inputs, targets = note_duration_arrays(heldout_pieces, encoding)
    probs = model.predict(inputs, batch_size=batch_size, verbose=0)
    seq_len = encoding.seq_len

    def targets_of(pieces) -> tuple[list, list]:
        seqs = [encoding.training_sequence(p) for p in pieces]
        return [s[0][seq_len:] for s in seqs], [s[1][seq_len:] for s in seqs]

    held = targets_of(heldout_pieces)
    fits = _training_fits(train_pieces, augmented_train)
    train_sets = [(label, targets_of(pieces)) for label, pieces in fits.items()]
    streams = []
    for i, (stream, vocab) in enumerate((("pitch", encoding.pitch_vocabulary),
                                         ("duration", encoding.duration_vocabulary))):
        p = np.asarray(probs[i], np.float64)
        target = targets[stream]
        nll = float(-np.mean(np.log(np.maximum(p[np.arange(len(target)), target], 1e-30))))
        streams.append(stream_quality(stream, nll, held[i],
                                      {label: sets[i] for label, sets in train_sets},
                                      len(vocab), unknown_id=vocab.unknown_id))
    notes = [f"count models fitted on {_fitted_on(fits)}; add-k chosen on the held-out targets"]
    return QualityReport(name, _held_out(len(heldout_pieces)), streams, notes)


def evaluate_quality(
    model,
    encoding,
    pieces: Sequence,
    *,
    validation_fraction: float = 0.1,
    seed: int = 0,
    transpose: Sequence[int] | None = None,
    seq_len: int = 64,
    batch_size: int = 32,
) -> QualityReport:
    """The held-out quality report of a trained model on a corpus.

    ``pieces`` are split exactly as the trainer splits them (same
    ``validation_fraction`` and ``seed``), so for the corpus a model was trained on
    the report scores the pieces it never trained on; for another corpus, its
    held-out part. The count models are fitted on the training part (and on its
    transposed copies by ``transpose``, the better fit kept).

    Args:
        model: a trained model.
        encoding: its encoding, e.g. from :func:`~kerasmusic.load_encoding`.
        pieces: the corpus, e.g. ``load_corpus("chorales").pieces``; for a char-RNN
            (a :class:`~kerasmusic.CharEncoding`), a text source as
            :func:`~kerasmusic.data.text.as_text_corpus` takes it (None: the bundled
            chorale lyrics).
        validation_fraction: share of pieces (documents) held out, as in training.
        seed: the training seed (it fixes the split).
        transpose: semitone shifts for the count models' second fit (default: the
            trainers' :data:`~kerasmusic.data.augment.DEFAULT_SHIFTS`; ``()`` for none).
        seq_len, batch_size: a char-RNN's held-out batches (consecutive rows, the
            state carried from batch to batch, as in training).

    Raises:
        KerasMusicError: no piece fits the encoding, or the encoding's model family
            has no quality report.
    """
    from kerasmusic.data.augment import DEFAULT_SHIFTS, transposed_copies
    from kerasmusic.data.events import EventEncoding
    from kerasmusic.data.frames import FrameEncoding, split_encoded_pieces
    from kerasmusic.data.note_tokens import NoteDurationEncoding
    from kerasmusic.data.pipeline import split_unique
    from kerasmusic.data.remi import RemiEncoding
    from kerasmusic.data.text import CharEncoding
    from kerasmusic.models.attention_lstm import check_encoding

    shifts = DEFAULT_SHIFTS if transpose is None else transpose
    if isinstance(encoding, CharEncoding):
        return _evaluate_char_rnn(model, encoding, pieces, validation_fraction, seed, seq_len,
                                  batch_size)
    if isinstance(encoding, (FrameEncoding, EventEncoding)):
        encoding.check_model(model)
        split = split_encoded_pieces(pieces, encoding, validation_fraction, seed,
                                     on_error="skip", transpose=shifts)
        if not split.validation:
            raise KerasMusicError("no held-out piece to score: the corpus has a single "
                                  "usable piece, or validation_fraction is 0")
        report = pianoroll_quality if isinstance(encoding, FrameEncoding) else \
            event_lstm_quality
        return report(model, encoding, split.train, split.validation,
                      augmented_train=split.augmented)
    if isinstance(encoding, RemiEncoding):
        from kerasmusic.models.music_transformer import every_step_model
        from kerasmusic.training.note_lstm import split_note_duration_pieces

        encoding.check_model(model)
        _, train, val = split_note_duration_pieces(
            pieces, tracks=encoding.tracks, seq_len=encoding.seq_len, min_count=1,
            chords="split", validation_fraction=validation_fraction, seed=seed)
        if not val:
            raise KerasMusicError("no held-out piece to score: the corpus has a single "
                                  "usable piece, or validation_fraction is 0")
        return remi_quality(every_step_model(model), encoding, train, val,
                            augmented_train=transposed_copies(
                                train, shifts, pitch_range=encoding.pitch_range, seed=seed))
    if not isinstance(encoding, NoteDurationEncoding):
        raise KerasMusicError(f"no held-out quality report for {type(encoding).__name__} "
                              "models (note/duration, REMI, char-RNN, piano-roll and event "
                              "models only)")
    check_encoding(model, encoding)
    usable = [p for p in pieces if encoding.has_tracks(p)]
    if not usable:
        raise KerasMusicError(f"no piece has the encoding's track(s) {encoding.tracks}")
    train, val = split_unique(usable, encoding, validation_fraction, seed)
    return note_lstm_quality(model, encoding, train, val,
                             augmented_train=transposed_copies(train, shifts, seed=seed))


def _text_pairs(dataset) -> tuple[np.ndarray, np.ndarray]:
    """The (input character, target character) id pairs of a :func:`text_dataset`."""
    xs, ys = [], []
    for inputs, targets in dataset.as_numpy_iterator():
        chars = inputs["chars"] if isinstance(inputs, dict) else inputs
        xs.append(np.asarray(chars).reshape(-1))
        ys.append(np.asarray(targets).reshape(-1))
    if not ys:
        raise KerasMusicError("no held-out characters to score")
    return np.concatenate(xs).astype(np.int64), np.concatenate(ys).astype(np.int64)


def backoff_bigram_nll(train_ids: Sequence[int], vocab_size: int, contexts: np.ndarray,
                       targets: np.ndarray, smoothing: float = 5.0) -> float:
    """Mean NLL of ``targets`` under character bigram counts backed off to the unigram.

    ``p(b | a) = (count(a, b) + smoothing * p(b)) / (count(a) + smoothing)``, counted
    on the stream ``train_ids`` (each id the context of the next), ``p(b)`` its
    add-one unigram; ``contexts`` are the ids before each target.
    """
    ids = np.asarray(train_ids, np.int64)
    a, b = np.asarray(contexts, np.int64), np.asarray(targets, np.int64)
    unigram = (np.bincount(ids, minlength=vocab_size) + 1.0) / (len(ids) + vocab_size)
    first = np.bincount(ids[:-1], minlength=vocab_size).astype(np.float64)
    codes, counts = np.unique(ids[:-1] * vocab_size + ids[1:], return_counts=True)
    pair = a * vocab_size + b
    pos = np.clip(np.searchsorted(codes, pair), 0, max(len(codes) - 1, 0))
    pair_counts = np.where(codes[pos] == pair, counts[pos], 0) if len(codes) else 0 * pair
    p = (pair_counts + smoothing * unigram[b]) / (first[a] + smoothing)
    return float(-np.mean(np.log(p)))


def char_rnn_quality(
    model,
    encoding,
    train_ids: Sequence[int],
    dataset,
    *,
    carry_state: bool = True,
    model_nll: float | None = None,
    data: str | None = None,
    name: str = "char-RNN",
) -> QualityReport:
    """Held-out NLL per character of a char-RNN next to character count models.

    The count models are fitted on the training stream ``train_ids`` (each character
    the context of the next) and scored on exactly the characters the model predicts
    in ``dataset``, each given the character before it. The bigram is the better of
    the add-k bigram (k chosen on the held-out characters) and the bigram backed off
    to the unigram (:func:`backoff_bigram_nll`).
    Perplexities (``e`` to the NLL) are printed under the table.

    Args:
        model: a :func:`~kerasmusic.build_char_rnn` model.
        encoding: its :class:`~kerasmusic.CharEncoding`.
        train_ids: the training text as character ids (``encoding.stream(train)[0]``).
        dataset: held-out batches from :func:`~kerasmusic.data.text.validation_dataset`.
        carry_state: carry the LSTM state between batches (consecutive batches).
        model_nll: the model's NLL if already measured on ``dataset`` (else measured).
        data: the held-out data in words (default: the character count).
        name: the model's name in the report.
    """
    from kerasmusic.training.char_rnn import evaluate_perplexity

    vocab = encoding.vocab_size
    ids = np.asarray(train_ids, np.int64)
    ctx, tgt = _text_pairs(dataset)
    if model_nll is None:
        model_nll = evaluate_perplexity(model, dataset, carry_state=carry_state)[0]
    uni = pair_ngram_nll(ids[:-1], ids[1:], ctx, tgt, vocab, order=1)[0]
    bigram, k = pair_ngram_nll(ids[:-1], ids[1:], ctx, tgt, vocab, order=2)
    fit = "train"
    backoff = backoff_bigram_nll(ids, vocab, ctx, tgt)
    if backoff < bigram:
        bigram, k, fit = backoff, 0.0, "train (backed off to the unigram)"
    stream = StreamQuality("characters", float(model_nll), uni, bigram, int(len(tgt)),
                           "nats/char", 0.0, k, fit)
    notes = [f"perplexity (e^NLL): model {math.exp(stream.model):.2f}, unigram "
             f"{math.exp(uni):.2f}, bigram {math.exp(bigram):.2f} "
             f"(model/bigram {math.exp(stream.model) / math.exp(bigram):.3f})",
             f"count models fitted on {len(ids):,} training characters"]
    return QualityReport(name, data or f"{len(tgt):,} held-out characters", [stream], notes)


def _evaluate_char_rnn(model, encoding, source, validation_fraction: float, seed: int,
                       seq_len: int, batch_size: int) -> QualityReport:
    """:func:`evaluate_quality` for a char-RNN: the trainer's document split of ``source``."""
    from kerasmusic.data.text import as_text_corpus, split_corpus, validation_dataset
    from kerasmusic.models.char_rnn import check_char_encoding

    check_char_encoding(model, encoding)
    corpus = as_text_corpus(source)
    train, val = split_corpus(corpus, validation_fraction, seed)
    if val is None:
        raise KerasMusicError("validation_fraction=0 holds nothing out to measure on")
    train_ids, _ = encoding.stream(train)
    val_ids, val_labels = encoding.stream(val)
    dataset = validation_dataset(val_ids, seq_len, batch_size, label_ids=val_labels)
    return char_rnn_quality(model, encoding, train_ids, dataset,
                            data=f"{len(val)} held-out documents")


#: Published frame-level NLLs (nats per quarter-note frame, summed over 88 keys) on
#: JSB Chorales, Boulanger-Lewandowski et al. 2012 (ICML), their own split.
JSB_CHORALES_LITERATURE: dict[str, float] = {"RNN": 8.71, "RNN-NADE": 5.19}


def _bernoulli_nll(on: np.ndarray, total: np.ndarray, targets: np.ndarray, k: float) -> float:
    """Mean over frames of the summed per-key NLL of targets under p = (on + k) / (total + 2k)."""
    p = (on + k) / (total + 2 * k)
    return float(-np.mean(np.sum(targets * np.log(p) + (1 - targets) * np.log1p(-p), axis=-1)))


def frame_count_nll(train_frames: Sequence[np.ndarray], heldout_frames: Sequence[np.ndarray],
                    *, order: int = 2, k: float | None = None) -> tuple[float, float]:
    """NLL per frame (nats, summed over keys) of per-key count models of piano rolls.

    Every frame after the first of each held-out roll is a target. ``order=1``: each
    key is on with its training frequency; ``order=2``: with its frequency given
    whether that key was on in the previous frame (a two-state Markov chain per key).
    Add-k on both outcomes; ``k`` None picks the best of :data:`SMOOTHING_GRID` on
    the held-out frames.

    Returns:
        (mean NLL per frame, the k used).
    """
    if order not in (1, 2):
        raise KerasMusicError(f"order must be 1 or 2, got {order}")

    def pairs(rolls):
        rolls = [np.asarray(r, np.float64) for r in rolls if len(r) > 1]
        if not rolls:
            raise KerasMusicError("no roll with two or more frames to score")
        return (np.concatenate([r[:-1] for r in rolls]), np.concatenate([r[1:] for r in rolls]))

    train_ctx, train_tgt = pairs(train_frames)
    ctx, tgt = pairs(heldout_frames)
    if order == 1:
        on, total = train_tgt.sum(0), np.full(tgt.shape[1], float(len(train_tgt)))

        def nll(kk):
            return _bernoulli_nll(on, total, tgt, kk)
    else:
        # Per key: counts after an "on" frame and after an "off" frame.
        on_after = np.stack([(train_tgt * (1 - train_ctx)).sum(0), (train_tgt * train_ctx).sum(0)])
        total_after = np.stack([(1 - train_ctx).sum(0), train_ctx.sum(0)])
        state = ctx.astype(np.int64)

        def nll(kk):
            keys = np.arange(tgt.shape[1])
            return _bernoulli_nll(on_after[state, keys], total_after[state, keys], tgt, kk)

    if k is not None:
        return nll(float(k)), float(k)
    return min((nll(kk), kk) for kk in SMOOTHING_GRID)


def pianoroll_quality(
    model,
    encoding,
    train_frames: Sequence[np.ndarray],
    heldout_frames: Sequence[np.ndarray],
    *,
    augmented_train: Sequence[np.ndarray] | None = None,
    batch_size: int = 8,
    name: str = "piano-roll RNN",
) -> QualityReport:
    """Held-out NLL per frame (summed over keys) of a piano-roll RNN vs per-key count models.

    Each held-out roll is read whole from its first frame (the model's state starts
    at zero there), and every later frame is a target: the model's NLL of a frame is
    the sum over keys of the binary cross-entropy of its sigmoids (for a joint-keys
    NADE / MADE model, of each key given the keys below it: the same exact NLL), the
    measure of
    Boulanger-Lewandowski et al. 2012; the table's note gives their JSB Chorales
    figures for quarter-note frames.

    Args:
        model: a :func:`~kerasmusic.build_pianoroll_rnn` model.
        encoding: its :class:`~kerasmusic.FrameEncoding`.
        train_frames: the training rolls (the count models' data).
        heldout_frames: the held-out rolls, ``encoding.encode(piece)`` each.
        augmented_train: the training rolls with their transposed copies, if the
            model trained on them (the count models are fitted on both; the better
            fit is kept).
        batch_size: rolls per prediction batch.
        name: the model's name in the report.
    """
    from fractions import Fraction

    from kerasmusic.models.pianoroll_rnn import reads_next_frames

    held = [np.asarray(r, np.float32) for r in heldout_frames if len(r) > 1]
    if not held:
        raise KerasMusicError("no held-out roll with two or more frames to score")
    total, count = 0.0, 0
    for start in range(0, len(held), batch_size):
        group = held[start:start + batch_size]
        length = max(len(r) for r in group) - 1
        # Zero padding at the end: the RNN is causal, so it leaves earlier frames alone.
        inputs = np.zeros((len(group), length, held[0].shape[1]), np.float32)
        for i, r in enumerate(group):
            inputs[i, :len(r) - 1] = r[:-1]
        if reads_next_frames(model):  # joint keys: the model reads the targets too
            targets = np.zeros_like(inputs)
            for i, r in enumerate(group):
                targets[i, :len(r) - 1] = r[1:]
            probs = model.predict([inputs, targets], verbose=0)
        else:
            probs = model.predict(inputs, verbose=0)
        probs = np.asarray(probs, np.float64)
        probs = np.clip(probs, 1e-7, 1 - 1e-7)  # the clip Keras' binary cross-entropy uses
        for i, r in enumerate(group):
            y, p = r[1:].astype(np.float64), probs[i, :len(r) - 1]
            total += float(-np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))
            count += len(r) - 1
    fits = _training_fits(train_frames, augmented_train)
    uni = min(frame_count_nll(t, held, order=1)[0] for t in fits.values())
    (bigram, k), fit = min((frame_count_nll(t, held, order=2), label)
                           for label, t in fits.items())
    stream = StreamQuality("frames", total / count, uni, bigram, count,
                           "nats/frame (summed over keys)", 0.0, k, fit)
    notes = [f"count models: each key on with its training frequency (unigram), or given "
             f"its own previous frame (bigram); fitted on {_fitted_on(fits)}"]
    if Fraction(encoding.step) == 1 and encoding.n_pitches == 88:
        lit = ", ".join(f"{k} {v}" for k, v in JSB_CHORALES_LITERATURE.items())
        notes.append(f"Boulanger-Lewandowski et al. 2012, JSB Chorales, quarter-note frames "
                     f"(another split): {lit}")
    return QualityReport(name, f"{_held_out(len(held))}, whole", [stream], notes)


#: The event LSTM's heads, in the column order of an event array.
EVENT_HEADS: tuple[str, ...] = ("note", "velocity", "time")


def event_lstm_quality(
    model,
    encoding,
    train_events: Sequence[np.ndarray],
    heldout_events: Sequence[np.ndarray],
    *,
    augmented_train: Sequence[np.ndarray] | None = None,
    batch_size: int = 256,
    name: str = "event LSTM",
) -> QualityReport:
    """Held-out NLL of each head of an event LSTM next to per-head count models.

    The targets are the events the model is trained to predict: every event of a
    held-out piece after its first ``encoding.seq_len``, each from the window of
    events before it. A head's count models see that head's class alone; the
    bigram's context is the same head's class in the previous event. They are
    fitted on every consecutive pair of the training pieces.

    Args:
        model: a :func:`~kerasmusic.build_event_lstm` model.
        encoding: its :class:`~kerasmusic.EventEncoding`.
        train_events, heldout_events: ``encoding.encode(piece)`` arrays (events, 3).
        augmented_train: the training arrays with their transposed copies, if the
            model trained on them (the count models are fitted on both; the better
            fit is kept).
        batch_size: windows per prediction batch.
        name: the model's name in the report.
    """
    from kerasmusic.data.events import event_windows

    seq_len = encoding.seq_len
    held = [np.asarray(a, np.int64) for a in heldout_events if len(a) > seq_len]
    if not held:
        raise KerasMusicError(f"no held-out piece has more than seq_len={seq_len} events")
    windows = np.concatenate([event_windows(a, seq_len) for a in held])
    probs = model.predict(windows[:, :-1], batch_size=batch_size, verbose=0)
    if isinstance(probs, dict):
        probs = [probs[h] for h in EVENT_HEADS]
    fits = {label: [np.asarray(a, np.int64) for a in arrays if len(a) > 1]
            for label, arrays in _training_fits(train_events, augmented_train).items()}
    streams = []
    for column, (head, size) in enumerate(zip(EVENT_HEADS, encoding.sizes)):
        p = np.asarray(probs[column], np.float64)
        target, ctx = windows[:, -1, column], windows[:, -2, column]
        nll = float(-np.mean(np.log(np.maximum(p[np.arange(len(target)), target], 1e-30))))
        best_uni, best_bigram = math.inf, (math.inf, 0.0, "train")
        for label, train in fits.items():
            train_ctx = np.concatenate([a[:-1, column] for a in train])
            train_tgt = np.concatenate([a[1:, column] for a in train])
            best_uni = min(best_uni, pair_ngram_nll(train_ctx, train_tgt, ctx, target, size,
                                                    order=1)[0])
            bigram, k = pair_ngram_nll(train_ctx, train_tgt, ctx, target, size, order=2)
            best_bigram = min(best_bigram, (bigram, k, label))
        streams.append(StreamQuality(head, nll, best_uni, best_bigram[0], int(len(target)),
                                     "nats/event", 0.0, best_bigram[1], best_bigram[2]))
    notes = [f"count models per head (the bigram's context: that head's previous class), "
             f"fitted on {_fitted_on(fits)}; add-k chosen on the held-out targets"]
    return QualityReport(name, _held_out(len(held)), streams, notes)


def remi_quality(
    model,
    encoding,
    train_pieces: Sequence,
    heldout_pieces: Sequence,
    *,
    augmented_train: Sequence | None = None,
    batch_size: int = 32,
    name: str = "Music Transformer (REMI)",
) -> QualityReport:
    """Held-out NLL per REMI token of a next-token model against count baselines.

    Args:
        model: a single-stream model that predicts the next id after every step
            (:func:`~kerasmusic.build_music_transformer` over the REMI vocabulary).
        encoding: its :class:`~kerasmusic.RemiEncoding` (``seq_len`` is the window).
        train_pieces: the training pieces as written (the count models' data).
        heldout_pieces: the pieces to score.
        augmented_train: the training pieces with their transposed copies, if the
            model was trained on them (the count models are fitted on both).
        batch_size: windows per prediction batch.
        name: the model's name in the report.

    The targets are every id of each held-out piece and its ``<end>``, each predicted
    once from the ids before it in a window of ``seq_len`` (at least ``seq_len // 2``
    of context once the piece is that long: :func:`~kerasmusic.data.remi_pipeline.
    remi_windows`); the count models see the same targets, the bigram's context the id
    before (``<start>`` before the first). An accompaniment encoding (``condition_track``)
    scores its examples (:meth:`~kerasmusic.RemiEncoding.model_sequences`) the same way.
    """
    from kerasmusic.data.remi_pipeline import remi_nll

    if not heldout_pieces:
        raise KerasMusicError("no held-out pieces to measure quality on")
    held = [s for p in heldout_pieces for s in encoding.model_sequences(p)]
    model_nll, _ = remi_nll(model, held, encoding.seq_len, batch_size)
    training = _training_fits(train_pieces, augmented_train)
    fits = {label: [s[1:] for p in pieces for s in encoding.model_sequences(p)]
            for label, pieces in training.items()}
    stream = stream_quality("remi", model_nll, [s[1:] for s in held], fits,
                            encoding.vocab_size, start_id=encoding.start_id)
    examples = ("" if encoding.condition_track is None else
                f", {len(held)} accompaniment examples of {encoding.condition_bars} bar(s) "
                f"(track {encoding.condition_track} given)")
    notes = [f"one stream of REMI tokens (vocabulary {encoding.vocab_size}, resolution "
             f"{encoding.resolution} steps per quarter, window {encoding.seq_len}{examples}); "
             f"count models fitted on {_fitted_on(training)}; add-k chosen on the held-out "
             "targets"]
    return QualityReport(name, _held_out(len(heldout_pieces)), [stream], notes)
