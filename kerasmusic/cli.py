"""The ``kerasmusic`` command line: demo, train, generate, evaluate, shard.

Arguments are defined and checked in :mod:`kerasmusic.cli_parser` without TensorFlow;
TensorFlow loads only once a command runs (quietly unless ``--verbose``).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from kerasmusic import tf_environment
from kerasmusic.cli_parser import ROLL_OPTIONS, conflicts, parser
from kerasmusic.errors import KerasMusicError


def _roll_encoding(args):
    """The MultiTrackPianoRoll of the roll encoding options (ROLL_OPTIONS)."""
    import kerasmusic as km

    return km.MultiTrackPianoRoll(
        tracks=_selectors(args.tracks), n_bars=args.n_bars, n_steps_per_bar=args.steps_per_bar,
        n_pitches=args.n_pitches, lowest_pitch=args.lowest_pitch,
        programs=_programs(args.programs), missing=args.missing,
        monophonic=getattr(args, "monophonic", False))


def _tracks(value: str):
    if value == "all":
        return None
    try:
        return [int(v) for v in value.split(",")]
    except ValueError:
        raise KerasMusicError(
            f"--tracks must be 'all' or numbers like '0' or '0,1', got {value!r}"
        ) from None


def _selectors(value: str) -> list:
    """'0,drums,program:32-39' -> [0, 'drums', 'program:32-39'] (checked by the encoding)."""
    return [int(v) if v.strip().isdigit() else v.strip() for v in value.split(",") if v.strip()]


def _programs(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value.split(",")]
    except ValueError:
        raise KerasMusicError(f"--programs must be numbers like '0,32', got {value!r}") from None


def _write_outputs(pieces, out: Path, png: bool, musicxml: bool,
                   notes: list[str] | None = None) -> list[str]:
    """Write each piece as MIDI (and PNG / MusicXML); the paths written, each MIDI path
    followed by its piece's entry of ``notes`` in brackets."""
    from kerasmusic.data.midi import write_midi
    from kerasmusic.data.scores import write_musicxml
    from kerasmusic.plotting import plot_piano_roll

    written = []
    out.parent.mkdir(parents=True, exist_ok=True)
    for i, piece in enumerate(pieces):
        path = out if len(pieces) == 1 else out.with_name(f"{out.stem}_{i}{out.suffix}")
        write_midi(piece, path)
        written.append(f"{path} ({notes[i]})" if notes else str(path))
        if png:
            plot_piano_roll(piece, path.with_suffix(".png"))
            written.append(str(path.with_suffix(".png")))
        if musicxml:
            write_musicxml(piece, path.with_suffix(".musicxml"))
            written.append(str(path.with_suffix(".musicxml")))
    return written


def _events_notes(lengths: list[int], n_events: int, unit: str = "events",
                  flag: str = "--n-events") -> list[str]:
    """'N events' per piece, saying so when the model ended a piece before ``n_events``."""
    return [f"{n} {unit}" if n == n_events else
            f"{n} {unit}: the model ended the piece (its end token) before {flag} "
            f"{n_events}; see --min-events, --no-stop" for n in lengths]


def run_demo(args) -> int:
    """Train on the bundled chorales (soprano line), generate, write MIDI and PNGs."""
    import kerasmusic as km

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print("kerasmusic demo: attention LSTM on the Bach chorales bundled with music21", flush=True)
    corpus = km.load_corpus("chorales", limit=args.pieces)
    print(f"{len(corpus.pieces)} chorales loaded ({len(corpus.errors)} unreadable); training on "
          f"the soprano line, moved to C major / A minor, for at most {args.max_seconds:.0f} s",
          flush=True)
    pieces = [km.normalize_key(p) for p in corpus.pieces]
    result = km.train_note_lstm(
        pieces, tracks=[0], seq_len=8, embed_size=32, rnn_units=64, epochs=args.epochs,
        batch_size=64, learning_rate=0.003, dropout=0.2, max_seconds=args.max_seconds,
        seed=args.seed, transpose=None,
    )
    val = result.history.get("val_loss", [])
    if val:
        print(f"validation loss: {result.initial_val_loss:.3f} untrained, {val[0]:.3f} after "
              f"epoch 1, best {min(val):.3f} (epoch {val.index(min(val)) + 1} of {len(val)}, "
              "its weights kept)", flush=True)
    model_path = out / "model.keras"
    km.save_model(result.model, model_path, result.encoding)
    _report_quality(result.quality, model_path)
    km.plot_losses(result.history, out / "loss.png", title="demo: attention LSTM")
    generated, lengths = km.generate(result.model, result.encoding, n_events=96,
                                     temperature=0.6, seed=args.seed, tempo=90,
                                     return_lengths=True)
    written = _write_outputs(generated, out / "demo.mid", png=True, musicxml=False,
                             notes=[f"{n} events" for n in lengths])
    print(f"done in {time.monotonic() - started:.0f} s. Wrote:")
    for path in [model_path, km.encoding_path(model_path), km.quality_path(model_path),
                 out / "loss.png", *written]:
        print(f"  {path}")
    return 0


def run_train_lstm(args) -> int:
    """``kerasmusic train lstm``: train on a corpus or folder and save the model."""
    import kerasmusic as km

    corpus = km.load_corpus(args.corpus or args.midi_dir, limit=args.limit)
    print(f"{len(corpus.pieces)} pieces loaded, {len(corpus.errors)} unreadable", flush=True)
    result = km.train_note_lstm(
        corpus.pieces, tracks=_tracks(args.tracks), seq_len=args.seq_len,
        embed_size=args.embed_size, rnn_units=args.rnn_units,
        use_attention=not args.no_attention, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, max_seconds=args.max_seconds, seed=args.seed,
        transpose=None if args.no_transpose else km.DEFAULT_SHIFTS,
        dropout=args.dropout, chords=args.chords,
    )
    enc_path = km.save_model(result.model, args.out, result.encoding)
    print(f"model saved to {args.out}, encoding to {enc_path}")
    _report_quality(result.quality, args.out)
    return 0


def run_train_transformer(args) -> int:
    """``kerasmusic train transformer``: the Music Transformer on note/duration or REMI
    tokens."""
    import kerasmusic as km

    return _train_keras_model(
        args, km.train_music_transformer, tracks=_tracks(args.tracks), seq_len=args.seq_len,
        n_layers=args.layers, d_model=args.d_model, n_heads=args.heads, ff_dim=args.ff_dim,
        relative=not args.no_relative, warmup_steps=args.warmup_steps, schedule=args.schedule,
        dropout=args.dropout,
        patience=args.patience, transpose=None if args.no_transpose else km.DEFAULT_SHIFTS,
        chords=args.chords, checkpoint_dir=args.checkpoint_dir, log_dir=args.log_dir,
        tokens=args.tokens, condition_track=args.condition_track,
        condition_bars=args.condition_bars)


def _report_quality(quality, model_path) -> None:
    """Print the held-out quality table and write it as JSON beside the model."""
    import kerasmusic as km

    if quality is None:
        print("no held-out pieces: no quality report")
        return
    print(quality.table())
    quality.save(km.quality_path(model_path))
    print(f"quality report saved to {km.quality_path(model_path)}")


def run_presets(args) -> int:
    """``kerasmusic presets``: the shipped models, their data and held-out quality."""
    import kerasmusic as km

    shipped = km.presets()
    if not shipped:
        print("no presets installed")
    for preset in shipped:
        stream = preset.quality().streams[0]
        print(f"{preset.name}  ({preset.family})\n  {preset.description}\n  held-out "
              f"{stream.name} NLL {stream.model:.3f} {stream.unit}, bigram {stream.bigram:.3f} "
              f"(ratio {stream.ratio:.3f})\n  kerasmusic generate --preset {preset.name}")
    return 0


def run_generate(args) -> int:
    """``kerasmusic generate``: load a model, sample, write MIDI (and PNG / MusicXML).

    The kind of model comes from its saved encoding: note/duration tokens (attention
    LSTM), 88-key frames (piano-roll RNN), events (event LSTM), piano rolls (MuseGAN)
    or REMI tokens (Music Transformer; an accompaniment model with --condition).
    """
    import kerasmusic as km

    if args.preset is not None:
        args.model = km.get_preset(args.preset).path
    model = km.load_model(args.model)
    encoding = km.load_encoding(args.model)
    is_text = isinstance(encoding, km.CharEncoding)
    if args.kind is not None and (args.kind == "charrnn") != is_text:
        raise KerasMusicError(f"{args.model} is not a {args.kind} model "
                              f"({type(encoding).__name__})")
    if is_text:
        texts = km.generate_text(
            model, encoding, args.prime, n_chars=args.n_chars, temperature=args.temperature,
            top_k=args.top_k, top_p=args.top_p, method=args.method, n_samples=args.n_pieces,
            label=args.label, seed=args.seed)
        print("\n\n".join(texts))
        return 0
    if isinstance(encoding, km.FrameEncoding):
        pieces = km.generate_pianoroll(
            model, encoding, n_steps=args.n_events, primer=args.primer,
            temperature=args.temperature, threshold=args.threshold, n_pieces=args.n_pieces,
            seed=args.seed)
        notes = _events_notes([args.n_events] * len(pieces), args.n_events, "frames")
    elif isinstance(encoding, km.EventEncoding):
        if args.primer is None:
            raise KerasMusicError("an event model continues a primer: pass --primer FILE")
        pieces = km.generate_events(
            model, encoding, args.primer, n_events=args.n_events,
            temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
            method=args.method, n_pieces=args.n_pieces, seed=args.seed)
        notes = _events_notes([args.n_events] * len(pieces), args.n_events)
    elif isinstance(encoding, km.NoteDurationEncoding):
        pieces, lengths = km.generate(
            model, encoding, n_events=args.n_events, primer=args.primer,
            temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
            method=args.method, n_pieces=args.n_pieces, seed=args.seed,
            min_events=args.n_events if args.no_stop else args.min_events,
            return_lengths=True)
        notes = _events_notes(lengths, args.n_events)
    elif isinstance(encoding, km.MultiTrackPianoRoll):
        from kerasmusic.generation.musegan import (
            condition_from_piece,
            condition_tracks_of,
            generate_rolls,
        )

        given, condition = condition_tracks_of(model), None
        if args.condition is not None:
            if not given:
                raise KerasMusicError(f"{args.model} makes every track; --condition needs a "
                                      "generator trained with --condition-tracks")
            selectors = _selectors(args.track)
            if len(selectors) != len(given):
                raise KerasMusicError(f"{args.model} is given {len(given)} track(s) "
                                      f"{given}: --track names {len(selectors)}")
            condition = condition_from_piece(km.read_file(args.condition), encoding, selectors)
        elif given:
            raise KerasMusicError(f"{args.model} accompanies given track(s) {given}: pass "
                                  "--condition FILE --track N")
        rolls = generate_rolls(model, args.n_pieces, n_bars=args.bars, seed=args.seed,
                               continuity=args.continuity, condition=condition)
        pieces = [encoding.decode(roll, name=f"generated {i}") for i, roll in enumerate(rolls)]
        notes = [f"{rolls.shape[1]} bars"] * len(pieces)
    elif isinstance(encoding, km.RemiEncoding):
        pieces, notes = _generate_remi(model, encoding, args)
    else:
        raise KerasMusicError(f"{args.model}: not a model that generates MIDI "
                              f"({type(encoding).__name__})")
    for path in _write_outputs(pieces, Path(args.out), args.png, args.musicxml, notes):
        print(f"wrote {path}")
    return 0


def _generate_remi(model, encoding, args) -> tuple[list, list[str]]:
    """``generate`` for a REMI Transformer: sampled pieces, or an accompaniment."""
    import kerasmusic as km

    sampling = dict(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                    method=args.method, n_pieces=args.n_pieces, seed=args.seed)
    if encoding.condition_track is not None or args.condition is not None:
        if args.condition is None:
            raise KerasMusicError(f"{args.model} accompanies a given track: pass "
                                  "--condition FILE --track N")
        selectors = _selectors(args.track)
        if len(selectors) != 1 or not isinstance(selectors[0], int):
            raise KerasMusicError(f"a REMI accompaniment model is given one track: --track "
                                  f"must be one track number, got {args.track!r}")
        pieces = km.generate_accompaniment(model, encoding, args.condition,
                                           track=selectors[0], **sampling)
        return pieces, [f"{sum(len(t.notes) for t in p.tracks)} notes" for p in pieces]
    pieces, lengths = km.generate_remi(model, encoding, args.n_tokens, primer=args.primer,
                                       return_lengths=True, **sampling)
    return pieces, [f"{n} tokens" if n == args.n_tokens else f"{n} tokens: the model ended "
                    f"the piece (<end>) before --n-tokens {args.n_tokens}" for n in lengths]


def run_train_crnngan(args) -> int:
    """``kerasmusic train crnngan``: train, checkpoint, save the generator, write samples."""
    import kerasmusic as km
    from kerasmusic.training.crnngan import CRNNGANConfig, train_crnngan

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = km.load_corpus(args.corpus or args.midi_dir, limit=args.limit)
    print(f"{len(corpus.pieces)} pieces loaded, {len(corpus.errors)} unreadable", flush=True)
    seed_variant = args.variant == "seed"
    config = CRNNGANConfig(units=args.units, latent_dim=args.latent_dim,
                           feature_matching=not (args.no_feature_matching or seed_variant),
                           freeze_threshold=args.freeze_threshold or None,
                           g_learning_rate=args.gan_learning_rate,
                           d_learning_rate=args.gan_learning_rate)
    result = train_crnngan(
        corpus.pieces, variant=args.variant, tracks=_tracks(args.tracks),
        tones_per_cell=args.tones_per_cell,
        seq_len=args.seq_len, batch_size=args.batch_size, steps_per_epoch=args.steps_per_epoch,
        epochs=args.epochs, pretrain_epochs=0 if seed_variant else args.pretrain_epochs,
        config=config, checkpoint_dir=out / "checkpoints",
        transpose=None if args.no_transpose else km.DEFAULT_SHIFTS, seed=args.seed,
    )
    km.save_model(result.gan.generator, out / "generator.keras", result.encoding)
    losses = {k: v for k, v in result.history.items() if k.endswith("loss") and v}
    km.plot_losses(losses, out / "losses.png", title="C-RNN-GAN")
    written = [out / "generator.keras", km.encoding_path(out / "generator.keras"),
               out / "losses.png"]
    for i, tones in enumerate(result.gan.generate(args.samples, args.seq_len, seed=args.seed)):
        km.write_midi(result.encoding.decode(tones), out / f"sample_{i}.mid")
        written.append(out / f"sample_{i}.mid")
    print("wrote:\n" + "\n".join(f"  {p}" for p in written))
    return 0


def _train_keras_model(args, train, **kwargs) -> int:
    """Load the corpus, run a Keras-fit trainer, save the model with its encoding."""
    import kerasmusic as km

    corpus = km.load_corpus(args.corpus or args.midi_dir, limit=args.limit)
    print(f"{len(corpus.pieces)} pieces loaded, {len(corpus.errors)} unreadable", flush=True)
    result = train(corpus.pieces, epochs=args.epochs, batch_size=args.batch_size,
                   learning_rate=args.learning_rate, max_seconds=args.max_seconds,
                   seed=args.seed, **kwargs)
    val = result.history.get("val_loss", [])
    if val:
        print(f"validation loss: {result.initial_val_loss:.4f} untrained, best {min(val):.4f} "
              f"(epoch {val.index(min(val)) + 1} of {len(val)}, its weights kept)", flush=True)
    enc_path = km.save_model(result.model, args.out, result.encoding)
    print(f"model saved to {args.out}, encoding to {enc_path}")
    _report_quality(result.quality, args.out)
    return 0


def run_train_pianoroll(args) -> int:
    """``kerasmusic train pianoroll``: the 88-key piano-roll RNN."""
    import kerasmusic as km

    encoding = km.FrameEncoding(step=args.step, tracks=_tracks(args.tracks),
                                frame_rule=args.frame_rule)
    return _train_keras_model(args, km.train_pianoroll_rnn, encoding=encoding,
                              seq_len=args.seq_len, units=args.units, n_layers=args.layers,
                              dropout=args.dropout, skip=not args.no_skip, output=args.output,
                              joint_units=args.joint_units)


def run_train_events(args) -> int:
    """``kerasmusic train events``: the note / velocity / time event LSTM."""
    import kerasmusic as km

    encoding = km.EventEncoding(seq_len=args.seq_len, tracks=_tracks(args.tracks))
    return _train_keras_model(args, km.train_event_lstm, encoding=encoding, units=args.units,
                              dropout=args.dropout, l1=args.l1)


def run_train_charrnn(args) -> int:
    """``kerasmusic train charrnn``: train on text, keep the best validation epoch."""
    import kerasmusic as km

    result = km.train_char_rnn(
        args.text, labels=args.label_file, mode=args.mode, seq_len=args.seq_len,
        batch_size=args.batch_size, rnn_units=args.units, n_layers=args.layers,
        dropout=args.dropout, epochs=args.epochs, learning_rate=args.learning_rate,
        max_seconds=args.max_seconds, patience=args.patience, limit=args.limit, out=args.out,
        seed=args.seed)
    print(f"best validation perplexity {result.best_val_perplexity:.3f} (epoch "
          f"{result.best_epoch}); character bigram {result.bigram_perplexity:.3f}; untrained "
          f"{result.initial_val_perplexity:.3f}")
    print(f"model saved to {result.path}")
    return 0


def run_train_musegan(args) -> int:
    """``kerasmusic train musegan``: train, checkpoint, save the generator, write samples."""
    import kerasmusic as km

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.shards:
        source, encoding = args.shards, None
        given = [f"--{name.replace('_', '-')}" for name in ROLL_OPTIONS
                 if getattr(args, name) != ROLL_OPTIONS[name]] + (["--limit"] if args.limit else [])
        if given:
            print(f"kerasmusic: {', '.join(given)} ignored: the shards' own encoding is used",
                  file=sys.stderr)
    else:
        encoding = _roll_encoding(args)
        corpus = km.load_corpus(args.corpus or args.midi_dir, limit=args.limit)
        print(f"{len(corpus.pieces)} pieces loaded, {len(corpus.errors)} unreadable",
              flush=True)
        source = corpus.pieces
        if args.normalize_key:
            source = [km.normalize_key(p) for p in source]
    config = km.MuseGANConfig(z_dim=args.z_dim, critic_steps=args.critic_steps, mode=args.mode,
                              learning_rate=args.learning_rate,
                              mixed_precision=args.mixed_precision,
                              onset_stream=args.onset_stream,
                              condition_tracks=tuple(_tracks(args.condition_tracks or "all")
                                                     or ()))
    result = km.train_musegan(
        source, encoding, epochs=args.epochs, batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch, config=config,
        checkpoint_dir=out / "checkpoints", sample_dir=out / "samples",
        sample_every=args.sample_every, log_dir=out / "logs",
        transpose=None if args.no_transpose else km.DEFAULT_SHIFTS, seed=args.seed,
        max_seconds=args.max_seconds)
    encoding = result.encoding
    km.save_model(result.gan.generator, out / "generator.keras", encoding)
    km.plot_losses(result.history, out / "losses.png", title="MuseGAN (WGAN-GP)",
                   keys=["critic_loss", "generator_loss", "wasserstein"])
    condition = None
    if result.gan.given_tracks:  # accompany the first real phrases
        condition = result.phrases[:args.samples] if result.phrases is not None else next(iter(
            km.pianoroll_shard_dataset(args.shards, args.samples, seed=args.seed))).numpy()
    phrases = result.gan.generate(args.samples if condition is None else len(condition),
                                  seed=args.seed, condition=condition)
    written = [out / "generator.keras", km.encoding_path(out / "generator.keras"),
               out / "losses.png", out / "logs", out / "samples.png"]
    for i, phrase in enumerate(phrases):
        km.write_midi(encoding.decode(phrase, name=f"sample {i}"), out / f"sample_{i}.mid")
        written.append(out / f"sample_{i}.mid")
    km.plot_roll_grid(encoding.binarize(phrases), out / "samples.png",
                      track_names=encoding.track_names, lowest_pitch=encoding.lowest_pitch,
                      title="MuseGAN samples")
    if result.phrases is not None and args.eval_phrases:
        from kerasmusic.data.json_config import write_json_atomic
        from kerasmusic.training.musegan import musegan_quality

        quality = musegan_quality(result.gan, encoding, result.phrases, n=args.eval_phrases,
                                  seed=args.seed)
        print(quality.table())
        write_json_atomic(out / "quality.json", quality.to_dict(), indent=1)
        written.append(out / "quality.json")
    print("wrote:\n" + "\n".join(f"  {p}" for p in written))
    return 0


def run_shard(args) -> int:
    """``kerasmusic shard``: a MIDI folder -> TFRecord shards of piano-roll phrases."""
    import kerasmusic as km

    report = km.write_pianoroll_shards(args.midi_dir, args.out, _roll_encoding(args),
                                       examples_per_shard=args.examples_per_shard,
                                       workers=args.workers)
    print(f"{report.n_examples} phrases in {len(report.shards)} shard(s) in {report.out_dir}; "
          f"{report.files_read} files read ({report.files_without_phrases} without a "
          f"phrase), {len(report.errors)} unreadable")
    print(f"train on them: kerasmusic train musegan --shards {report.out_dir} --out RUN_DIR")
    return 0


def _roll_rows(corpora: dict, selectors, n_bars: int) -> tuple[dict, str | None]:
    """MuseGAN metric rows for the sources, or a reason why there are none."""
    import kerasmusic as km
    from kerasmusic import roll_metrics

    pieces = [p for c in corpora.values() for p in c.pieces]
    if selectors is None:
        common = min((len(p.tracks) for p in pieces), default=0)
        if common < 2:
            return {}, "single-track pieces: no MuseGAN metrics (pass --tracks to choose)"
        selectors = list(range(min(common, 4)))
    encoding = km.MultiTrackPianoRoll(tracks=selectors, n_bars=n_bars, hop_bars=n_bars)
    # A drum track: chosen as 'drums', or a numbered track that is drums in the files.
    sample = next((p for p in pieces if encoding.has_tracks(p)), None)
    chosen = encoding.select(sample) if sample else [[]] * len(selectors)
    drum = next((k for k, tracks in enumerate(chosen)
                 if encoding.drums[k] or (tracks and all(t.is_drum for t in tracks))), None)
    rows = {}
    for name, corpus in corpora.items():
        try:
            phrases = km.encode_phrases(corpus.pieces, encoding)
        except KerasMusicError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            continue
        rows[f"{name} [{len(phrases)} phrases]"] = roll_metrics.roll_summary(
            phrases, encoding.lowest_pitch, drum)
    return rows, None


def run_evaluate(args) -> int:
    """``kerasmusic evaluate``: the statistics table, and MuseGAN metrics for multi-track."""
    import kerasmusic as km
    from kerasmusic import metrics

    if args.model is not None or args.corpus is not None:
        return _evaluate_model(args)
    if not args.sources:
        raise KerasMusicError("evaluate needs MIDI folders or corpus names, or --model M "
                              "--corpus C")
    corpora = {}
    for source in args.sources:
        corpus = km.load_corpus(source, limit=args.limit)
        corpora[f"{Path(source).name or source} ({len(corpus)})"] = corpus
    print(metrics.format_table({name: metrics.music_statistics(c.pieces)
                                for name, c in corpora.items()}))
    selectors = _selectors(args.tracks) if args.tracks else None
    rows, reason = _roll_rows(corpora, selectors, args.n_bars)
    if rows:
        print("\nMuseGAN metrics (means over tracks; TD over track pairs):")
        print(metrics.format_table(rows))
    elif reason:
        print(f"\n{reason}")
    return 0


def _evaluate_model(args) -> int:
    """``kerasmusic evaluate --model M --corpus C``: the held-out quality report."""
    import kerasmusic as km

    if args.model is None or args.corpus is None or args.sources:
        raise KerasMusicError("evaluate --model needs --corpus (and no positional sources)")
    model, encoding = km.load_model(args.model), km.load_encoding(args.model)
    if isinstance(encoding, km.CharEncoding):
        data = args.corpus
    else:
        corpus = km.load_corpus(args.corpus)
        data = [km.normalize_key(p) for p in corpus.pieces] if args.normalize_key \
            else corpus.pieces
    report = km.evaluate_quality(model, encoding, data,
                                 validation_fraction=args.validation_fraction, seed=args.seed,
                                 seq_len=args.seq_len, batch_size=args.batch_size)
    print(report.table())
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Skipped files are reported as one plain line, without Python's source location."""
    print(str(message), file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kerasmusic`` command.

    Arguments are parsed and checked before TensorFlow loads (``--help``, ``--version``
    and usage errors never load it); then TensorFlow is imported with its start-up
    lines hidden unless ``--verbose``, and the command runs.
    """
    arguments = parser()
    args = arguments.parse_args(argv)
    problem = conflicts(args)
    if problem:
        arguments.error(problem)
    tf_environment.command_line_defaults(args.verbose)
    tf_environment.import_tensorflow(args.verbose)
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        if args.command == "demo":
            return run_demo(args)
        if args.command == "train":
            runners = {"lstm": run_train_lstm, "transformer": run_train_transformer,
                       "crnngan": run_train_crnngan,
                       "musegan": run_train_musegan, "pianoroll": run_train_pianoroll,
                       "events": run_train_events, "charrnn": run_train_charrnn}
            return runners[args.model](args)
        if args.command == "evaluate":
            return run_evaluate(args)
        if args.command == "presets":
            return run_presets(args)
        if args.command == "shard":
            return run_shard(args)
        return run_generate(args)
    except KerasMusicError as exc:
        print(f"kerasmusic: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = shown


if __name__ == "__main__":
    sys.exit(main())
