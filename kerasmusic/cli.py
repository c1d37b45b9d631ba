"""The ``kerasmusic`` command line: demo, train, generate, evaluate, shard."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from kerasmusic.errors import KerasMusicError


def _add_sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-events", type=int, default=128, help="events to generate per piece")
    p.add_argument("--temperature", type=float, default=0.5, help="0 = always the likeliest")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--method", choices=["cdf", "gumbel"], default="cdf",
                   help="sampling draws: inverse CDF or Gumbel-max (same distribution)")
    p.add_argument("--n-pieces", type=int, default=1, help="pieces to generate in one batch")
    p.add_argument("--seed", type=int, default=0)


ROLL_OPTIONS = {"tracks": "0,1,2,3", "programs": None, "missing": "skip", "n_bars": 2,
                "steps_per_bar": 16, "n_pitches": 84, "lowest_pitch": 24}


def _add_roll_encoding_args(p: argparse.ArgumentParser) -> None:
    """The MultiTrackPianoRoll options (:func:`_roll_encoding`), defaults ROLL_OPTIONS."""
    p.add_argument("--tracks", default=ROLL_OPTIONS["tracks"],
                   help="comma-separated track selectors: numbers, 'drums', "
                        "'program:A-B', 'name:TEXT' (default: the first 4 tracks)")
    p.add_argument("--programs", default=ROLL_OPTIONS["programs"],
                   help="comma-separated General MIDI programs of the output tracks")
    p.add_argument("--missing", choices=["skip", "silent"], default=ROLL_OPTIONS["missing"],
                   help="a piece without a selected track: skip it, or use silence")
    p.add_argument("--monophonic", action="store_true",
                   help="each track is one voice: generated rolls keep one pitch per step "
                        "and track (the highest-valued), e.g. the chorales' S, A, T, B")
    for name in ("n_bars", "steps_per_bar", "n_pitches", "lowest_pitch"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=ROLL_OPTIONS[name])


def _roll_encoding(args):
    """The MultiTrackPianoRoll of :func:`_add_roll_encoding_args`' options."""
    import kerasmusic as km

    return km.MultiTrackPianoRoll(
        tracks=_selectors(args.tracks), n_bars=args.n_bars, n_steps_per_bar=args.steps_per_bar,
        n_pitches=args.n_pitches, lowest_pitch=args.lowest_pitch,
        programs=_programs(args.programs), missing=args.missing,
        monophonic=getattr(args, "monophonic", False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerasmusic", description="Train and sample symbolic music models with Keras."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train a small attention LSTM on Bach chorales and "
                                       "generate a piece")
    demo.add_argument("--out", default="kerasmusic-demo", help="output folder")
    demo.add_argument("--pieces", type=int, default=None,
                      help="use only the first N chorales (default: all)")
    demo.add_argument("--epochs", type=int, default=40)
    demo.add_argument("--max-seconds", type=float, default=100.0,
                      help="training time budget in seconds")
    demo.add_argument("--seed", type=int, default=0)

    train = sub.add_parser("train", help="train a model on a corpus or a MIDI folder")
    train_sub = train.add_subparsers(dest="model", required=True)
    lstm = train_sub.add_parser("lstm", help="the note/duration attention LSTM")
    source = lstm.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="a bundled corpus name, e.g. 'chorales' or 'bach'")
    source.add_argument("--midi-dir", help="a folder of MIDI (or MusicXML/kern/ABC) files")
    lstm.add_argument("--out", required=True,
                      help="model path: *.keras, *.h5 or a folder for a SavedModel")
    lstm.add_argument("--tracks", default="all",
                      help="'all' (chords across parts) or comma-separated track numbers, "
                           "e.g. 0 for the first part")
    lstm.add_argument("--limit", type=int, default=None, help="use at most N files")
    lstm.add_argument("--seq-len", type=int, default=8)
    lstm.add_argument("--embed-size", type=int, default=32)
    lstm.add_argument("--rnn-units", type=int, default=128)
    lstm.add_argument("--no-attention", action="store_true")
    lstm.add_argument("--epochs", type=int, default=20)
    lstm.add_argument("--batch-size", type=int, default=64)
    lstm.add_argument("--learning-rate", type=float, default=0.003)
    lstm.add_argument("--max-seconds", type=float, default=None)
    lstm.add_argument("--dropout", type=float, default=0.3,
                      help="dropout of the LSTM inputs and the context (default: 0.3)")
    lstm.add_argument("--no-transpose", action="store_true",
                      help="train on the pieces as written, without transposed copies")
    lstm.add_argument("--chords", choices=["split", "joined"], default="split",
                      help="notes that start together: a token per note, '+' until the "
                           "chord's last ('split', default), or one token per chord ('joined')")
    lstm.add_argument("--seed", type=int, default=0)

    crnngan = train_sub.add_parser("crnngan", help="the recurrent C-RNN-GAN (Mogren 2016)")
    source = crnngan.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="a bundled corpus name, e.g. 'chorales'")
    source.add_argument("--midi-dir", help="a folder of MIDI (or score) files")
    crnngan.add_argument("--out", required=True, help="output folder")
    crnngan.add_argument("--variant", choices=["paper", "seed"], default="paper",
                         help="the paper's recurrent GAN, or the seed chapter's simplified one")
    crnngan.add_argument("--latent-dim", type=int, default=1000, help="seed variant only")
    crnngan.add_argument("--tracks", default="all")
    crnngan.add_argument("--limit", type=int, default=None)
    crnngan.add_argument("--seq-len", type=int, default=100)
    crnngan.add_argument("--batch-size", type=int, default=32)
    crnngan.add_argument("--steps-per-epoch", type=int, default=None)
    crnngan.add_argument("--epochs", type=int, default=20, help="all epochs, MLE included")
    crnngan.add_argument("--pretrain-epochs", type=int, default=5,
                         help="MLE pre-training epochs; equal to --epochs for the baseline")
    crnngan.add_argument("--units", type=int, default=350)
    crnngan.add_argument("--tones-per-cell", type=int, default=1, help="3 for C-RNN-GAN-3")
    crnngan.add_argument("--no-feature-matching", action="store_true")
    crnngan.add_argument("--freeze-threshold", type=float, default=0.7,
                         help="freezing ratio; 0 turns freezing off")
    crnngan.add_argument("--samples", type=int, default=4, help="MIDI samples to write")
    crnngan.add_argument("--no-transpose", action="store_true",
                         help="crop the pieces as written only (default: also their copies "
                              "shifted by -5..+6 semitones)")
    crnngan.add_argument("--seed", type=int, default=0)

    musegan = train_sub.add_parser("musegan", help="MuseGAN (multi-track piano rolls, WGAN-GP)")
    source = musegan.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="a bundled corpus name, e.g. 'chorales'")
    source.add_argument("--midi-dir", help="a folder of multi-track MIDI (or score) files")
    source.add_argument("--shards", help="a folder written by 'kerasmusic shard' (streamed; "
                                         "the encoding options come from its manifest)")
    musegan.add_argument("--out", required=True, help="output folder")
    _add_roll_encoding_args(musegan)
    musegan.add_argument("--limit", type=int, default=None)
    musegan.add_argument("--z-dim", type=int, default=32)
    musegan.add_argument("--mode", choices=["hybrid", "jamming", "composer"], default="hybrid",
                         help="generator: per-track generators with shared and own noise "
                              "(hybrid), own noise only (jamming), one shared generator "
                              "(composer)")
    musegan.add_argument("--epochs", type=int, default=10)
    musegan.add_argument("--batch-size", type=int, default=64)
    musegan.add_argument("--steps-per-epoch", type=int, default=None,
                         help="cap on critic steps per epoch")
    musegan.add_argument("--critic-steps", type=int, default=5,
                         help="critic steps per generator step")
    musegan.add_argument("--learning-rate", type=float, default=1e-3)
    musegan.add_argument("--mixed-precision", action="store_true",
                         help="float16 compute with loss scaling (for GPUs)")
    musegan.add_argument("--samples", type=int, default=4, help="final MIDI samples to write")
    musegan.add_argument("--sample-every", type=int, default=1,
                         help="write sample MIDI + PNG every N epochs")
    musegan.add_argument("--condition-tracks", default=None,
                         help="accompaniment: comma-separated output tracks that are given, "
                              "not generated (e.g. 0 for the soprano)")
    musegan.add_argument("--normalize-key", action="store_true",
                         help="move every piece to C major / A minor first")
    musegan.add_argument("--max-seconds", type=float, default=None,
                         help="training time budget: no epoch starts after it is used up")
    musegan.add_argument("--eval-phrases", type=int, default=500,
                         help="generated phrases measured against the training phrases "
                              "at the end (EB, UPC, QN, polyphony, TD; 0: none)")
    musegan.add_argument("--no-transpose", action="store_true",
                         help="train on the phrases as written (default: each phrase moved by "
                              "a random shift of -5..+6 semitones that fits the roll)")
    musegan.add_argument("--seed", type=int, default=0)

    roll = train_sub.add_parser("pianoroll", help="the polyphonic piano-roll RNN (88 keys)")
    source = roll.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="a bundled corpus name, e.g. 'chorales' or "
                                         "'nottingham-dataset'")
    source.add_argument("--midi-dir", help="a folder of MIDI (or score) files")
    roll.add_argument("--out", required=True,
                      help="model path: *.keras, *.h5 or a folder for a SavedModel")
    roll.add_argument("--tracks", default="all")
    roll.add_argument("--limit", type=int, default=None)
    roll.add_argument("--step", default="1/4", help="frame length in quarter notes")
    roll.add_argument("--frame-rule", choices=["cover", "sample"], default="cover",
                      help="cover: a note fills its rounded span; sample: a frame holds the "
                           "notes sounding at its start (as the JSB Chorales rolls)")
    roll.add_argument("--seq-len", type=int, default=64)
    roll.add_argument("--units", type=int, default=256)
    roll.add_argument("--layers", type=int, default=2)
    roll.add_argument("--dropout", type=float, default=0.0)
    roll.add_argument("--output", choices=["sigmoid", "nade", "made"], default="sigmoid",
                      help="sigmoid: each key on its own; nade / made: the keys of a frame "
                           "modelled jointly (RNN-NADE, or the faster masked MADE)")
    roll.add_argument("--joint-units", type=int, default=None,
                      help="hidden units of a joint-keys output (default 128 NADE, 512 MADE)")
    roll.add_argument("--no-skip", action="store_true",
                      help="the seed's plain stack, without the input-to-output skip")
    roll.add_argument("--epochs", type=int, default=10)
    roll.add_argument("--batch-size", type=int, default=32)
    roll.add_argument("--learning-rate", type=float, default=0.001)
    roll.add_argument("--max-seconds", type=float, default=None)
    roll.add_argument("--seed", type=int, default=0)

    events = train_sub.add_parser("events", help="the note / velocity / time event LSTM")
    source = events.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="a bundled corpus name, e.g. 'chorales'")
    source.add_argument("--midi-dir", help="a folder of MIDI (or score) files")
    events.add_argument("--out", required=True,
                        help="model path: *.keras, *.h5 or a folder for a SavedModel")
    events.add_argument("--tracks", default="all")
    events.add_argument("--limit", type=int, default=None)
    events.add_argument("--seq-len", type=int, default=30)
    events.add_argument("--units", type=int, default=256)
    events.add_argument("--dropout", type=float, default=0.5)
    events.add_argument("--l1", type=float, default=1e-5, help="L1 weight penalty")
    events.add_argument("--epochs", type=int, default=10)
    events.add_argument("--batch-size", type=int, default=64)
    events.add_argument("--learning-rate", type=float, default=0.001)
    events.add_argument("--max-seconds", type=float, default=None)
    events.add_argument("--seed", type=int, default=0)

    chars = train_sub.add_parser("charrnn", help="a character-level LSTM language model")
    chars.add_argument("--text", nargs="+", default=None,
                       help="UTF-8 text files or folders, or one .csv (default: the lyrics of "
                            "the bundled Bach chorales)")
    chars.add_argument("--label-file", default=None,
                       help="'file<TAB>label' lines: trains a model conditioned on the label")
    chars.add_argument("--out", required=True, help="output folder")
    chars.add_argument("--mode", choices=["consecutive", "random"], default="consecutive",
                       help="consecutive windows with the state carried (truncated BPTT), "
                            "or random windows")
    chars.add_argument("--seq-len", type=int, default=64)
    chars.add_argument("--batch-size", type=int, default=32)
    chars.add_argument("--units", type=int, default=256)
    chars.add_argument("--layers", type=int, default=1)
    chars.add_argument("--dropout", type=float, default=0.0,
                       help="dropout on the LSTM inputs and outputs")
    chars.add_argument("--epochs", type=int, default=60)
    chars.add_argument("--patience", type=int, default=8,
                       help="stop after this many epochs without a better validation "
                            "perplexity (the best epoch's weights are kept)")
    chars.add_argument("--learning-rate", type=float, default=3e-3)
    chars.add_argument("--max-seconds", type=float, default=240,
                       help="training time budget in seconds (default 240: the whole run "
                            "stays under 5 minutes on 2 cores)")
    chars.add_argument("--limit", type=int, default=None,
                       help="bundled lyrics: use the first N chorales")
    chars.add_argument("--seed", type=int, default=0)

    gen = sub.add_parser("generate", help="generate MIDI (or text) with a trained model")
    gen.add_argument("kind", nargs="?", choices=["midi", "charrnn"], default=None,
                     help="what the model makes (default: read from its saved encoding)")
    gen.add_argument("--prime", default="", help="char-RNN: the text to continue")
    gen.add_argument("--n-chars", type=int, default=200, help="char-RNN: characters to add")
    gen.add_argument("--label", default=None, help="char-RNN: the label of a conditional model")
    gen.add_argument("--model", default=None, help="a .keras or .h5 file saved by kerasmusic")
    gen.add_argument("--preset", default=None,
                     help="a model shipped with kerasmusic instead of --model (see "
                          "`kerasmusic presets`)")
    gen.add_argument("--out", default="generated.mid",
                     help="MIDI path; with --n-pieces > 1 a number is added per piece")
    gen.add_argument("--primer", default=None,
                     help="a MIDI or score file to continue (needed by event models)")
    gen.add_argument("--threshold", type=float, default=None,
                     help="piano-roll models: keys above this probability sound (no sampling)")
    gen.add_argument("--bars", type=int, default=None,
                     help="MuseGAN generators: bars per piece (default: one phrase; more "
                          "chains phrases)")
    gen.add_argument("--continuity", type=float, default=0.8,
                     help="MuseGAN generators: how much of a phrase's chords and melody "
                          "noise the next phrase keeps, in [0, 1) (default 0.8)")
    gen.add_argument("--condition", default=None,
                     help="MuseGAN accompaniment generators: a MIDI or score file holding "
                          "the given part(s)")
    gen.add_argument("--track", default="0",
                     help="with --condition: the file's track(s) to give, comma-separated "
                          "selectors, one per given track (default 0)")
    gen.add_argument("--png", action="store_true", help="also write a piano-roll PNG")
    gen.add_argument("--musicxml", action="store_true", help="also write MusicXML")
    _add_sampling_args(gen)

    shard = sub.add_parser("shard", help="preprocess a MIDI folder into TFRecord shards of "
                                         "piano-roll phrases (for 'train musegan --shards')")
    shard.add_argument("midi_dir", help="folder searched recursively for .mid / .midi files")
    shard.add_argument("out", help="shard folder (shards and manifest.json)")
    _add_roll_encoding_args(shard)
    shard.add_argument("--examples-per-shard", type=int, default=20_000)
    shard.add_argument("--workers", type=int, default=None,
                       help="parser processes (default: one per CPU core)")

    sub.add_parser("presets", help="list the trained models shipped with kerasmusic "
                                   "(use one with generate --preset NAME)")
    evaluate = sub.add_parser(
        "evaluate", help="print music statistics of MIDI folders, or a model's held-out "
                         "quality (--model M --corpus C)")
    evaluate.add_argument("sources", nargs="*",
                          help="folders of MIDI / score files, or corpus names; one row each")
    evaluate.add_argument("--model", default=None,
                          help="a saved model: print its held-out NLL next to the unigram "
                               "and bigram count models (needs --corpus)")
    evaluate.add_argument("--corpus", default=None,
                          help="with --model: the corpus name or folder it was trained on; "
                               "split as in training (a char-RNN: 'chorales' for the bundled "
                               "lyrics, or a text file, folder or .csv)")
    evaluate.add_argument("--validation-fraction", type=float, default=0.1,
                          help="with --model: the training run's held-out share (default 0.1)")
    evaluate.add_argument("--seed", type=int, default=0,
                          help="with --model: the training run's seed, which fixed the split")
    evaluate.add_argument("--seq-len", type=int, default=64,
                          help="with --model, a char-RNN: characters per held-out window "
                               "(the state is carried across windows)")
    evaluate.add_argument("--batch-size", type=int, default=32,
                          help="with --model, a char-RNN: held-out rows per batch")
    evaluate.add_argument("--normalize-key", action="store_true",
                          help="with --model: move every piece to C major / A minor first, as "
                               "the demo does")
    evaluate.add_argument("--limit", type=int, default=None, help="at most N files per source")
    evaluate.add_argument("--tracks", default=None,
                          help="track selectors for the MuseGAN metrics of multi-track "
                               "sources (default: the first tracks all pieces have, up to 4)")
    evaluate.add_argument("--n-bars", type=int, default=2,
                          help="bars per phrase for the MuseGAN metrics")
    return parser


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


def _write_outputs(pieces, out: Path, png: bool, musicxml: bool) -> list[Path]:
    from kerasmusic.data.midi import write_midi
    from kerasmusic.data.scores import write_musicxml
    from kerasmusic.plotting import plot_piano_roll

    written = []
    out.parent.mkdir(parents=True, exist_ok=True)
    for i, piece in enumerate(pieces):
        path = out if len(pieces) == 1 else out.with_name(f"{out.stem}_{i}{out.suffix}")
        write_midi(piece, path)
        written.append(path)
        if png:
            plot_piano_roll(piece, path.with_suffix(".png"))
            written.append(path.with_suffix(".png"))
        if musicxml:
            write_musicxml(piece, path.with_suffix(".musicxml"))
            written.append(path.with_suffix(".musicxml"))
    return written


def _fit_verbosity() -> int:
    """A progress bar on a terminal; one line per epoch in logs and pipes."""
    return 1 if sys.stdout.isatty() else 2


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
        seed=args.seed, verbose=_fit_verbosity(), transpose=None,
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
    generated = km.generate(result.model, result.encoding, n_events=96, temperature=0.6,
                            seed=args.seed, tempo=90)
    written = _write_outputs(generated, out / "demo.mid", png=True, musicxml=False)
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
        verbose=_fit_verbosity(), transpose=None if args.no_transpose else km.DEFAULT_SHIFTS,
        dropout=args.dropout, chords=args.chords,
    )
    enc_path = km.save_model(result.model, args.out, result.encoding)
    print(f"model saved to {args.out}, encoding to {enc_path}")
    _report_quality(result.quality, args.out)
    return 0


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
    LSTM), 88-key frames (piano-roll RNN) or events (event LSTM).
    """
    import kerasmusic as km

    if (args.model is None) == (args.preset is None):
        raise KerasMusicError("generate needs --model FILE or --preset NAME (one of them)")
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
    elif isinstance(encoding, km.EventEncoding):
        if args.primer is None:
            raise KerasMusicError("an event model continues a primer: pass --primer FILE")
        pieces = km.generate_events(
            model, encoding, args.primer, n_events=args.n_events,
            temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
            method=args.method, n_pieces=args.n_pieces, seed=args.seed)
    elif isinstance(encoding, km.NoteDurationEncoding):
        pieces = _generate_note_lstm(model, encoding, args)
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
    else:
        raise KerasMusicError(f"{args.model}: not a model that generates MIDI "
                              f"({type(encoding).__name__})")
    for path in _write_outputs(pieces, Path(args.out), args.png, args.musicxml):
        print(f"wrote {path}")
    return 0


def _generate_note_lstm(model, encoding, args):
    import kerasmusic as km

    return km.generate(
        model, encoding, n_events=args.n_events, primer=args.primer,
        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        method=args.method, n_pieces=args.n_pieces, seed=args.seed,
    )


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
                           freeze_threshold=args.freeze_threshold or None)
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
                   seed=args.seed, verbose=_fit_verbosity(), **kwargs)
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
        seed=args.seed, verbose=_fit_verbosity())
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
    """Entry point of the ``kerasmusic`` command."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        if args.command == "demo":
            return run_demo(args)
        if args.command == "train":
            runners = {"lstm": run_train_lstm, "crnngan": run_train_crnngan,
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
