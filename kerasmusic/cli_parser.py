"""The ``kerasmusic`` command line's arguments: every command, option, default and check.

Nothing here imports TensorFlow: ``--help``, ``--version`` and usage errors (a flag
out of range, a ``--midi-dir`` that does not exist) answer at once. The commands
themselves run in :mod:`kerasmusic.cli`.
"""

from __future__ import annotations

import argparse
import os

from kerasmusic import __version__
from kerasmusic.validation import violation

SUPPRESS = argparse.SUPPRESS

ROLL_OPTIONS = {"tracks": "0,1,2,3", "programs": None, "missing": "skip", "n_bars": 2,
                "steps_per_bar": 16, "n_pitches": 84, "lowest_pitch": 24}

FAMILIES = {
    "lstm": "the note/duration attention LSTM (melodies, or chords across parts)",
    "transformer": "the Music Transformer (relative attention) on the LSTM's note/duration "
                   "tokens or REMI multi-track tokens",
    "crnngan": "the recurrent C-RNN-GAN (Mogren 2016) on note tones",
    "musegan": "MuseGAN: multi-track piano-roll phrases, WGAN-GP",
    "pianoroll": "the polyphonic piano-roll RNN (88 keys per frame)",
    "events": "the note / velocity / time event LSTM",
    "charrnn": "a character-level LSTM language model (lyrics or any UTF-8 text)",
}


def _no_default(value) -> bool:
    """A default not worth showing: None, False, "" or none at all (SUPPRESS)."""
    return value is None or value is False or value == "" or value is SUPPRESS


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` after an option's help, unless the default is None, False,
    empty or already written in the help (where None means something, the help says what)."""

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def add_argument(self, action):
        super().add_argument(action)
        # argparse measures subcommand names one indent short, so a long one ('pianoroll')
        # would wrap its own help line; count them at the indent they are drawn at.
        if action.help is not SUPPRESS and hasattr(action, "_get_subactions"):
            names = [len(self._format_action_invocation(a)) for a in action._get_subactions()]
            self._action_max_length = max(
                self._action_max_length,
                max(names, default=0) + self._current_indent + self._indent_increment)

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or _no_default(action.default) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _typed(kind, name: str, **bounds):
    """An argparse ``type``: parse with ``kind`` (int or float), then check ``bounds``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {'a whole number' if kind is int else 'a number'}, got {text!r}"
            ) from None
        rule = violation(value, integer=kind is int, **bounds)
        if rule is not None:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    parse.__name__ = name
    return parse


COUNT = _typed(int, "count", minimum=1)          # epochs, sizes, units, events...
NATURAL = _typed(int, "natural", minimum=0)      # seeds, patience, pre-training epochs
POSITIVE = _typed(float, "positive", above=0)    # time budgets
LEARNING_RATE = _typed(float, "learning_rate", above=0, finite=True)
TEMPERATURE = _typed(float, "temperature", minimum=0)
RATE = _typed(float, "rate", minimum=0, below=1)  # dropout
SHARE = _typed(float, "share", above=0, below=1)  # validation fraction
PROBABILITY = _typed(float, "probability", above=0, maximum=1)  # top-p, threshold
FRACTION = _typed(float, "fraction", minimum=0, maximum=1)   # freezing ratio
MIDI_NUMBER = _typed(int, "midi_number", minimum=0, maximum=127)
PITCH_COUNT = _typed(int, "pitch_count", minimum=1, maximum=128)


def folder(text: str) -> str:
    """An argparse ``type``: a folder that exists."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"folder does not exist: {text}")
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return text


def _add_source(p, *, shards: bool = False, score_hint: str = "MIDI (or score) files"):
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", metavar="NAME",
                        help="a bundled corpus: 'chorales' (or 'bach') or a music21 corpus "
                             "folder such as 'nottingham-dataset'")
    source.add_argument("--midi-dir", type=folder, metavar="DIR",
                        help=f"a folder of {score_hint}, searched recursively")
    if shards:
        source.add_argument("--shards", type=folder, metavar="DIR",
                            help="a folder written by 'kerasmusic shard' (streamed; the "
                                 "encoding options come from its manifest)")
    p.add_argument("--limit", type=COUNT, metavar="N", help="read at most N files (default: all)")


def _add_fit_args(p, *, epochs: int, batch_size: int, learning_rate: float | None,
                  max_seconds: float | None | bool = None, examples: str = "examples",
                  epochs_help: str = "epochs to train at most") -> None:
    """The training options the ``train`` families share (``learning_rate=None``,
    ``max_seconds=False``: the family has no such option)."""
    p.add_argument("--epochs", type=COUNT, default=epochs, metavar="N", help=epochs_help)
    p.add_argument("--batch-size", type=COUNT, default=batch_size, metavar="N",
                   help=f"{examples} per batch")
    if learning_rate is not None:
        p.add_argument("--learning-rate", type=LEARNING_RATE, default=learning_rate, metavar="LR",
                       help="optimizer learning rate")
    if max_seconds is not False:
        p.add_argument("--max-seconds", type=POSITIVE, default=max_seconds, metavar="S",
                       help="training time budget in seconds" +
                            ("" if max_seconds is not None else " (default: no limit)"))


def _add_seed(p, what: str = "fixes weights, data split and shuffling") -> None:
    p.add_argument("--seed", type=NATURAL, default=0, metavar="K", help=what)


def _add_roll_encoding_args(p: argparse.ArgumentParser) -> None:
    """The MultiTrackPianoRoll options (:func:`kerasmusic.cli._roll_encoding`)."""
    p.add_argument("--tracks", default=ROLL_OPTIONS["tracks"], metavar="SELECTORS",
                   help="comma-separated track selectors: numbers, 'drums', "
                        "'program:A-B', 'name:TEXT' (default: the first 4 tracks)")
    p.add_argument("--programs", default=ROLL_OPTIONS["programs"], metavar="P,P,...",
                   help="comma-separated General MIDI programs of the output tracks "
                        "(default: those of the first piece)")
    p.add_argument("--missing", choices=["skip", "silent"], default=ROLL_OPTIONS["missing"],
                   help="a piece without a selected track: skip it, or use silence")
    p.add_argument("--n-bars", type=COUNT, default=ROLL_OPTIONS["n_bars"], metavar="N",
                   help="bars per phrase")
    p.add_argument("--steps-per-bar", type=COUNT, default=ROLL_OPTIONS["steps_per_bar"],
                   metavar="N", help="time steps per bar")
    p.add_argument("--n-pitches", type=PITCH_COUNT, default=ROLL_OPTIONS["n_pitches"],
                   metavar="N", help="pitches of the roll (whole octaves for MuseGAN)")
    p.add_argument("--lowest-pitch", type=MIDI_NUMBER, default=ROLL_OPTIONS["lowest_pitch"],
                   metavar="MIDI", help="MIDI number of the roll's lowest pitch")
    p.add_argument("--monophonic", action="store_true",
                   help="each track is one voice: generated rolls keep one pitch per step and "
                        "track (the highest-valued), e.g. the chorales' S, A, T, B")


def _sub(sub, name: str, help: str, description: str | None = None):
    """A subcommand whose help line is ``help`` and whose screen starts with ``description``."""
    return sub.add_parser(name, help=help, description=description or help[0].upper() + help[1:],
                          formatter_class=HelpFormatter)


def _add_demo(sub) -> None:
    demo = _sub(sub, "demo", "train a small attention LSTM on the Bach chorales and generate "
                             "a melody",
                "Train a small attention LSTM on the soprano line of the Bach chorales bundled "
                "with music21 (no download), then write the model, loss.png, demo.mid and "
                "demo.png.")
    demo.add_argument("--out", default="kerasmusic-demo", metavar="DIR", help="output folder")
    demo.add_argument("--pieces", type=COUNT, default=None, metavar="N",
                      help="use only the first N chorales (default: all)")
    demo.add_argument("--epochs", type=COUNT, default=40, metavar="N",
                      help="epochs to train at most")
    demo.add_argument("--max-seconds", type=POSITIVE, default=100.0, metavar="S",
                      help="training time budget in seconds")
    _add_seed(demo)


def _add_note_source(p) -> None:
    """Source, model path and tracks of the note/duration families (LSTM, Transformer)."""
    _add_source(p, score_hint="MIDI (or MusicXML/kern/ABC) files")
    p.add_argument("--out", required=True, metavar="MODEL",
                   help="model path: *.keras, *.h5 or a folder for a SavedModel")
    p.add_argument("--tracks", default="all",
                   help="'all' (chords across parts) or comma-separated track numbers, "
                        "e.g. 0 for the first part")


def _add_note_data_options(p) -> None:
    """Augmentation and chord tokens of the note/duration families."""
    p.add_argument("--no-transpose", action="store_true",
                   help="train on the pieces as written, without transposed copies")
    p.add_argument("--chords", choices=["split", "joined"], default="split",
                   help="notes that start together: a token per note, '+' until the "
                        "chord's last (split), or one token per chord (joined)")


def _add_train_lstm(train_sub) -> None:
    lstm = _sub(train_sub, "lstm", FAMILIES["lstm"],
                "Train the note/duration attention LSTM on a corpus or a MIDI folder and save "
                "it with its encoding and held-out quality report.")
    _add_note_source(lstm)
    lstm.add_argument("--seq-len", type=COUNT, default=8, metavar="N",
                      help="events the model reads to predict the next")
    lstm.add_argument("--embed-size", type=COUNT, default=32, metavar="N",
                      help="embedding width of pitch and duration tokens")
    lstm.add_argument("--rnn-units", type=COUNT, default=128, metavar="N", help="LSTM units")
    lstm.add_argument("--no-attention", action="store_true",
                      help="the last LSTM output instead of attention pooling")
    _add_fit_args(lstm, epochs=20, batch_size=64, learning_rate=0.003)
    lstm.add_argument("--dropout", type=RATE, default=0.3, metavar="RATE",
                      help="dropout of the LSTM inputs and the context")
    _add_note_data_options(lstm)
    _add_seed(lstm)


def _add_train_transformer(train_sub) -> None:
    tr = _sub(train_sub, "transformer", FAMILIES["transformer"],
              "Train a decoder-only Music Transformer with relative attention on the attention "
              "LSTM's note/duration tokens (same split, same held-out targets), or with "
              "--tokens remi on REMI-style multi-track tokens of the same pieces, and save it "
              "with its encoding and held-out quality report.")
    _add_note_source(tr)
    tr.add_argument("--tokens", choices=["note_duration", "remi"], default="note_duration",
                    help="the LSTM's note/duration tokens, or REMI-style multi-track tokens "
                         "(bar, position, track, pitch, velocity, duration, tempo) in one "
                         "stream")
    tr.add_argument("--seq-len", type=COUNT, default=None, metavar="N",
                    help="events (REMI: tokens) the model reads to predict the next, its "
                         "context (default: 32 events, 64 REMI tokens)")
    tr.add_argument("--condition-track", type=NATURAL, default=None, metavar="T",
                    help="--tokens remi: train an accompaniment model given track T (among "
                         "the tracks read): examples <start> track T <sep> the other tracks "
                         "<end>, span by span (default: none, an unconditional model)")
    tr.add_argument("--condition-bars", type=COUNT, default=2, metavar="N",
                    help="with --condition-track: bars per example")
    tr.add_argument("--layers", type=COUNT, default=4, metavar="N", help="Transformer blocks")
    tr.add_argument("--d-model", type=COUNT, default=128, metavar="N",
                    help="width of embeddings and blocks")
    tr.add_argument("--heads", type=COUNT, default=4, metavar="N",
                    help="attention heads (--d-model must be a multiple)")
    tr.add_argument("--ff-dim", type=COUNT, default=None, metavar="N",
                    help="feed-forward hidden width (default: 4 x --d-model)")
    tr.add_argument("--no-relative", action="store_true",
                    help="plain attention with absolute position embeddings instead of "
                         "relative attention")
    _add_fit_args(tr, epochs=50, batch_size=32, learning_rate=2e-3)
    tr.add_argument("--warmup-steps", type=NATURAL, default=200, metavar="N",
                    help="batches of linear learning-rate warm-up")
    tr.add_argument("--schedule", choices=["cosine", "plateau"], default="cosine",
                    help="after the warm-up: a cosine decay to 0 at the end of the run "
                         "(--max-seconds or --epochs), or halving when the validation loss "
                         "stalls")
    tr.add_argument("--dropout", type=RATE, default=0.1, metavar="RATE",
                    help="dropout of embeddings, attention weights and residuals")
    tr.add_argument("--patience", type=NATURAL, default=6, metavar="N",
                    help="stop after this many epochs without a better validation loss (the "
                         "best epoch's weights are kept)")
    _add_note_data_options(tr)
    tr.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                    help="back up the training state after every epoch; run again with the "
                         "same folder to resume (default: no backups)")
    tr.add_argument("--log-dir", default=None, metavar="DIR",
                    help="write TensorBoard logs there (default: none)")
    _add_seed(tr)


def _add_train_crnngan(train_sub) -> None:
    crnngan = _sub(train_sub, "crnngan", FAMILIES["crnngan"],
                   "Train the recurrent C-RNN-GAN (MLE pre-training, then adversarial) with "
                   "checkpoints; write the generator, losses.png and sample MIDI files.")
    _add_source(crnngan)
    crnngan.add_argument("--out", required=True, metavar="DIR", help="output folder")
    crnngan.add_argument("--variant", choices=["paper", "seed"], default="paper",
                         help="the paper's recurrent GAN, or the seed chapter's simplified one")
    crnngan.add_argument("--latent-dim", type=COUNT, default=1000, metavar="N",
                         help="noise size (seed variant only)")
    crnngan.add_argument("--tracks", default="all",
                         help="'all' or comma-separated track numbers")
    crnngan.add_argument("--seq-len", type=COUNT, default=100, metavar="N",
                         help="tones per training crop")
    _add_fit_args(crnngan, epochs=20, batch_size=32, learning_rate=None, max_seconds=False,
                  examples="crops", epochs_help="all epochs, MLE pre-training included")
    crnngan.add_argument("--steps-per-epoch", type=COUNT, default=None, metavar="N",
                         help="batches per epoch (default: one pass over the crops)")
    crnngan.add_argument("--pretrain-epochs", type=NATURAL, default=5, metavar="N",
                         help="MLE pre-training epochs; equal to --epochs for the baseline")
    crnngan.add_argument("--units", type=COUNT, default=350, metavar="N", help="LSTM units")
    crnngan.add_argument("--tones-per-cell", type=COUNT, default=1, metavar="N",
                         help="tones per LSTM step (3 for C-RNN-GAN-3)")
    crnngan.add_argument("--no-feature-matching", action="store_true",
                         help="the plain generator loss instead of feature matching")
    crnngan.add_argument("--gan-learning-rate", type=LEARNING_RATE, default=1e-3, metavar="LR",
                         help="Adam learning rate of generator and discriminator in the "
                              "adversarial epochs (the chorale recipe: 1e-4)")
    crnngan.add_argument("--freeze-threshold", type=FRACTION, default=0.7, metavar="R",
                         help="freezing ratio; 0 turns freezing off")
    crnngan.add_argument("--samples", type=COUNT, default=4, metavar="N",
                         help="MIDI samples to write")
    crnngan.add_argument("--no-transpose", action="store_true",
                         help="crop the pieces as written only (default: also their copies "
                              "shifted by -5..+6 semitones)")
    _add_seed(crnngan)


def _add_train_musegan(train_sub) -> None:
    musegan = _sub(train_sub, "musegan", FAMILIES["musegan"],
                   "Train MuseGAN as a WGAN-GP on multi-track piano-roll phrases with "
                   "checkpoints, TensorBoard scalars and samples; write the generator.")
    _add_source(musegan, shards=True, score_hint="multi-track MIDI (or score) files")
    musegan.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _add_roll_encoding_args(musegan)
    musegan.add_argument("--z-dim", type=COUNT, default=32, metavar="N",
                         help="noise size per source")
    musegan.add_argument("--mode", choices=["hybrid", "jamming", "composer"], default="hybrid",
                         help="generator: per-track generators with shared and own noise "
                              "(hybrid), own noise only (jamming), one shared generator "
                              "(composer)")
    _add_fit_args(musegan, epochs=10, batch_size=64, learning_rate=1e-3, max_seconds=None,
                  examples="phrases", epochs_help="epochs to train")
    musegan.add_argument("--steps-per-epoch", type=COUNT, default=None, metavar="N",
                         help="cap on critic steps per epoch (default: one pass)")
    musegan.add_argument("--critic-steps", type=COUNT, default=5, metavar="N",
                         help="critic steps per generator step")
    musegan.add_argument("--mixed-precision", action="store_true",
                         help="float16 compute with loss scaling (for GPUs)")
    musegan.add_argument("--samples", type=COUNT, default=4, metavar="N",
                         help="final MIDI samples to write")
    musegan.add_argument("--sample-every", type=COUNT, default=1, metavar="N",
                         help="write sample MIDI + PNG every N epochs")
    musegan.add_argument("--no-transpose", action="store_true",
                         help="train on the phrases as written (default: each phrase moved by "
                              "a random shift of -5..+6 semitones that fits the roll)")
    musegan.add_argument("--normalize-key", action="store_true",
                         help="move every piece to C major / A minor first")
    musegan.add_argument("--condition-tracks", default=None, metavar="T,T,...",
                         help="accompaniment: output tracks that are given, not generated "
                              "(e.g. 0 for the soprano; default: none, every track generated)")
    musegan.add_argument("--onset-stream", action="store_true",
                         help="give the critic a second stream reading each track's note "
                              "onsets (it then judges how often voices start notes)")
    musegan.add_argument("--eval-phrases", type=NATURAL, default=500, metavar="N",
                         help="generated phrases measured against the training phrases at "
                              "the end (EB, UPC, QN, polyphony, TD; 0: none)")
    _add_seed(musegan)


def _add_train_pianoroll(train_sub) -> None:
    roll = _sub(train_sub, "pianoroll", FAMILIES["pianoroll"],
                "Train the polyphonic piano-roll RNN and save it with its encoding and "
                "held-out quality report.")
    _add_source(roll)
    roll.add_argument("--out", required=True, metavar="MODEL",
                      help="model path: *.keras, *.h5 or a folder for a SavedModel")
    roll.add_argument("--tracks", default="all", help="'all' or comma-separated track numbers")
    roll.add_argument("--step", default="1/4", help="frame length in quarter notes")
    roll.add_argument("--frame-rule", choices=["cover", "sample"], default="cover",
                      help="cover: a note fills its rounded span; sample: a frame holds the "
                           "notes sounding at its start (as the JSB Chorales rolls)")
    roll.add_argument("--seq-len", type=COUNT, default=64, metavar="N",
                      help="frames per training window")
    roll.add_argument("--units", type=COUNT, default=256, metavar="N",
                      help="LSTM units per layer")
    roll.add_argument("--layers", type=COUNT, default=2, metavar="N", help="LSTM layers")
    roll.add_argument("--dropout", type=RATE, default=0.0, metavar="RATE",
                      help="dropout between layers")
    roll.add_argument("--output", choices=["sigmoid", "nade", "made"], default="sigmoid",
                      help="sigmoid: each key on its own; nade / made: the keys of a frame "
                           "modelled jointly (RNN-NADE, or the faster masked MADE)")
    roll.add_argument("--joint-units", type=COUNT, default=None, metavar="N",
                      help="hidden units of a joint-keys output (default: 128 NADE, 512 MADE)")
    roll.add_argument("--no-skip", action="store_true",
                      help="the seed's plain stack, without the input-to-output skip")
    _add_fit_args(roll, epochs=10, batch_size=32, learning_rate=0.001)
    _add_seed(roll)


def _add_train_events(train_sub) -> None:
    events = _sub(train_sub, "events", FAMILIES["events"],
                  "Train the note / velocity / time event LSTM and save it with its encoding "
                  "and held-out quality report.")
    _add_source(events)
    events.add_argument("--out", required=True, metavar="MODEL",
                        help="model path: *.keras, *.h5 or a folder for a SavedModel")
    events.add_argument("--tracks", default="all",
                        help="'all' or comma-separated track numbers")
    events.add_argument("--seq-len", type=COUNT, default=30, metavar="N",
                        help="events the model reads to predict the next")
    events.add_argument("--units", type=COUNT, default=256, metavar="N", help="LSTM units")
    events.add_argument("--dropout", type=RATE, default=0.5, metavar="RATE",
                        help="dropout of the LSTM output")
    events.add_argument("--l1", type=_typed(float, "l1", minimum=0), default=1e-5, metavar="W",
                        help="L1 weight penalty")
    _add_fit_args(events, epochs=10, batch_size=64, learning_rate=0.001)
    _add_seed(events)


def _add_train_charrnn(train_sub) -> None:
    chars = _sub(train_sub, "charrnn", FAMILIES["charrnn"],
                 "Train a character LSTM on UTF-8 text (default: the lyrics of the bundled "
                 "Bach chorales), keep the best validation epoch, print its held-out quality.")
    chars.add_argument("--text", nargs="+", default=None, metavar="PATH",
                       help="UTF-8 text files or folders, or one .csv (default: the lyrics of "
                            "the bundled Bach chorales)")
    chars.add_argument("--label-file", default=None, metavar="FILE",
                       help="'file<TAB>label' lines: trains a model conditioned on the label "
                            "(default: none, an unconditional model)")
    chars.add_argument("--out", required=True, metavar="DIR", help="output folder")
    chars.add_argument("--mode", choices=["consecutive", "random"], default="consecutive",
                       help="consecutive windows with the state carried (truncated BPTT), "
                            "or random windows")
    chars.add_argument("--seq-len", type=COUNT, default=64, metavar="N",
                       help="characters per training window")
    chars.add_argument("--units", type=COUNT, default=256, metavar="N", help="LSTM units")
    chars.add_argument("--layers", type=COUNT, default=1, metavar="N", help="LSTM layers")
    chars.add_argument("--dropout", type=RATE, default=0.0, metavar="RATE",
                       help="dropout on the LSTM inputs and outputs")
    _add_fit_args(chars, epochs=60, batch_size=32, learning_rate=3e-3, max_seconds=240,
                  examples="windows")
    chars.add_argument("--patience", type=NATURAL, default=8, metavar="N",
                       help="stop after this many epochs without a better validation "
                            "perplexity (the best epoch's weights are kept)")
    chars.add_argument("--limit", type=COUNT, default=None, metavar="N",
                       help="bundled lyrics: use the first N chorales (default: all)")
    _add_seed(chars)


def _add_train(sub) -> None:
    train = _sub(sub, "train", "train a model on a corpus, a MIDI folder or text",
                 "Train a model of one of the families below; 'kerasmusic train FAMILY --help' "
                 "lists a family's options.")
    train_sub = train.add_subparsers(dest="model", required=True, metavar="FAMILY",
                                     title="families")
    for add in (_add_train_lstm, _add_train_transformer, _add_train_crnngan, _add_train_musegan,
                _add_train_pianoroll, _add_train_events, _add_train_charrnn):
        add(train_sub)


class _Options:
    """Adds options to one generate screen. On a kind's screen (``generate midi`` /
    ``generate charrnn``) an option left out keeps what the plain ``generate`` options set,
    so ``generate --seed 3 charrnn`` and ``generate charrnn --seed 3`` mean the same."""

    def __init__(self, parser, inherited: bool):
        self.parser, self.inherited = parser, inherited

    def __call__(self, *flags, default=None, help: str, **kwargs) -> None:
        if self.inherited:
            if not _no_default(default):
                help = f"{help} (default: {default})"
            default = SUPPRESS
        self.parser.add_argument(*flags, default=default, help=help, **kwargs)


def _add_model_choice(add: _Options, what: str) -> None:
    add("--model", metavar="FILE",
        help=f"a .keras or .h5 {what} saved by kerasmusic (no default: this or --preset)")
    add("--preset", metavar="NAME",
        help="a model shipped with kerasmusic instead of --model (see 'kerasmusic presets'; "
             "no default)")


def _add_sampling(add: _Options) -> None:
    add("--temperature", type=TEMPERATURE, default=0.5, metavar="T",
        help="sampling temperature; 0 always takes the likeliest")
    add("--top-k", type=COUNT, metavar="K", help="sample among the K likeliest only (default: all)")
    add("--top-p", type=PROBABILITY, metavar="P",
        help="sample from the nucleus of probability mass P only (default: all)")
    add("--method", choices=["cdf", "gumbel"], default="cdf",
        help="sampling draws: inverse CDF or Gumbel-max (same distribution)")
    add("--n-pieces", type=COUNT, default=1, metavar="N", help="pieces (or texts) in one batch")
    add("--seed", type=NATURAL, default=0, metavar="K", help="fixes the random draws")


def _add_midi_generation(add: _Options) -> None:
    add("--out", default="generated.mid", metavar="FILE",
        help="MIDI path; with --n-pieces > 1 a number is added per piece")
    add("--primer", metavar="FILE",
        help="a MIDI or score file to continue (needed by event models; default: none, "
             "start from scratch)")
    add("--n-events", type=COUNT, default=128, metavar="N",
        help="events to generate per piece, at most: notes and rests (attention LSTM), "
             "note-on/off events (event LSTM) or frames (piano roll)")
    stop = add.parser.add_mutually_exclusive_group()
    _Options(stop, add.inherited)(
        "--min-events", type=NATURAL, default=0, metavar="N",
        help="attention LSTM: the model may end a piece (its end token) only after N events")
    _Options(stop, add.inherited)(
        "--no-stop", action="store_true", default=False,
        help="attention LSTM: never end a piece early; exactly --n-events events")
    add("--n-tokens", type=COUNT, default=512, metavar="N",
        help="REMI Transformers: ids to generate per piece at most (a piece may end "
             "earlier with <end>; more than the model's window continues by sliding)")
    add("--threshold", type=PROBABILITY, metavar="P",
        help="piano-roll models: keys above probability P sound, no sampling (default: sample)")
    add("--bars", type=COUNT, metavar="N",
        help="MuseGAN generators: bars per piece; more than a phrase chains phrases "
             "(default: one phrase, or the --condition part's length)")
    add("--continuity", type=_typed(float, "continuity", minimum=0, below=1), default=0.8,
        metavar="C", help="MuseGAN generators: how much of a phrase's chords and melody noise "
                          "the next phrase keeps, in [0, 1)")
    add("--condition", metavar="FILE",
        help="MuseGAN or REMI accompaniment models: a MIDI or score file holding the given "
             "part(s) (default: none)")
    add("--track", default="0", metavar="SELECTORS",
        help="with --condition: the file's track(s) to give, one selector per given track "
             "(REMI: one track number)")
    add("--png", action="store_true", default=False, help="also write a piano-roll PNG")
    add("--musicxml", action="store_true", default=False, help="also write MusicXML")


def _add_text_generation(add: _Options, prefix: str = "") -> None:
    add("--prime", default="", metavar="TEXT",
        help=f"{prefix}the text to continue (default: none, a new text)")
    add("--n-chars", type=COUNT, default=200, metavar="N", help=f"{prefix}characters to add")
    add("--label", metavar="LABEL",
        help=f"{prefix}the label of a conditional model (default: none, for a plain model)")


def _add_generate(sub) -> None:
    gen = sub.add_parser(
        "generate", formatter_class=HelpFormatter,
        usage="%(prog)s [midi | charrnn] (--model FILE | --preset NAME) [options]",
        help="generate MIDI (or text) with a trained model",
        description="Generate with a trained model; the kind of model (attention LSTM, "
                    "event LSTM, piano roll, char-RNN) comes from its saved encoding. "
                    "'kerasmusic generate midi --help' and 'kerasmusic generate charrnn "
                    "--help' show one kind's options.")
    add = _Options(gen, inherited=False)
    _add_model_choice(add, "model")
    _add_midi_generation(add)
    _add_text_generation(add, prefix="char-RNN: ")
    _add_sampling(add)
    kinds = gen.add_subparsers(dest="kind", metavar="KIND", title="kinds (optional)",
                               prog=gen.prog)
    midi = _sub(kinds, "midi", "a music model: write MIDI files (and PNG, MusicXML)",
                "Generate MIDI with a music model (attention LSTM, event LSTM or piano roll); "
                "each piece is written with the number of events it got.")
    add = _Options(midi, inherited=True)
    _add_model_choice(add, "music model")
    _add_midi_generation(add)
    _add_sampling(add)
    chars = _sub(kinds, "charrnn", "a char-RNN: print generated text",
                 "Generate text with a character RNN and print it.")
    add = _Options(chars, inherited=True)
    _add_model_choice(add, "char-RNN")
    _add_text_generation(add)
    _add_sampling(add)


def _add_shard(sub) -> None:
    shard = _sub(sub, "shard", "preprocess a MIDI folder into TFRecord shards of piano-roll "
                               "phrases (for 'train musegan --shards')")
    shard.add_argument("midi_dir", type=folder,
                       help="folder searched recursively for .mid / .midi files")
    shard.add_argument("out", help="shard folder (shards and manifest.json)")
    _add_roll_encoding_args(shard)
    shard.add_argument("--examples-per-shard", type=COUNT, default=20_000, metavar="N",
                       help="phrases per TFRecord file")
    shard.add_argument("--workers", type=COUNT, default=None, metavar="N",
                       help="parser processes (default: one per CPU core)")


def _add_evaluate(sub) -> None:
    evaluate = _sub(sub, "evaluate", "print music statistics of MIDI folders, or a model's "
                                     "held-out quality (--model M --corpus C)")
    evaluate.add_argument("sources", nargs="*", metavar="SOURCE",
                          help="folders of MIDI / score files, or corpus names; one row each")
    evaluate.add_argument("--model", default=None, metavar="FILE",
                          help="a saved model: print its held-out NLL next to the unigram "
                               "and bigram count models (needs --corpus; default: none, "
                               "statistics of the sources)")
    evaluate.add_argument("--corpus", default=None, metavar="NAME",
                          help="with --model: the corpus name or folder it was trained on; "
                               "split as in training (a char-RNN: 'chorales' for the bundled "
                               "lyrics, or a text file, folder or .csv; no default)")
    evaluate.add_argument("--validation-fraction", type=SHARE, default=0.1, metavar="F",
                          help="with --model: the training run's held-out share")
    evaluate.add_argument("--seed", type=NATURAL, default=0, metavar="K",
                          help="with --model: the training run's seed, which fixed the split")
    evaluate.add_argument("--seq-len", type=COUNT, default=64, metavar="N",
                          help="with --model, a char-RNN: characters per held-out window "
                               "(the state is carried across windows)")
    evaluate.add_argument("--batch-size", type=COUNT, default=32, metavar="N",
                          help="with --model, a char-RNN: held-out rows per batch")
    evaluate.add_argument("--normalize-key", action="store_true",
                          help="with --model: move every piece to C major / A minor first, as "
                               "the demo does")
    evaluate.add_argument("--limit", type=COUNT, default=None, metavar="N",
                          help="at most N files per source (default: all)")
    evaluate.add_argument("--tracks", default=None, metavar="SELECTORS",
                          help="track selectors for the MuseGAN metrics of multi-track "
                               "sources (default: the first tracks all pieces have, up to 4)")
    evaluate.add_argument("--n-bars", type=COUNT, default=2, metavar="N",
                          help="bars per phrase for the MuseGAN metrics")


def parser() -> argparse.ArgumentParser:
    """The ``kerasmusic`` argument parser (no TensorFlow import)."""
    main = argparse.ArgumentParser(
        prog="kerasmusic", formatter_class=HelpFormatter,
        description="Train and sample symbolic music models with Keras.",
        epilog="'kerasmusic COMMAND --help' lists a command's options.")
    main.add_argument("--version", action="version", version=f"kerasmusic {__version__}")
    main.add_argument("--verbose", action="store_true",
                      help="show TensorFlow's own log lines (hidden by default)")
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND",
                              title="commands")
    _add_demo(sub)
    _add_train(sub)
    _add_generate(sub)
    _add_shard(sub)
    _sub(sub, "presets", "list the trained models shipped with kerasmusic (use one with "
                         "generate --preset NAME)")
    _add_evaluate(sub)
    return main


def conflicts(args: argparse.Namespace) -> str | None:
    """A usage error that lies between two flags, in words (None when there is none)."""
    if args.command == "train" and args.model == "crnngan" and args.variant == "paper" \
            and args.pretrain_epochs > args.epochs:
        return (f"--pretrain-epochs ({args.pretrain_epochs}) cannot exceed --epochs "
                f"({args.epochs})")
    if args.command == "generate" and (args.model is None) == (args.preset is None):
        return "generate needs --model FILE or --preset NAME (one of them)"
    if args.command == "generate" and args.min_events > args.n_events:
        return f"--min-events ({args.min_events}) cannot exceed --n-events ({args.n_events})"
    return None
