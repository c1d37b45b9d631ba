"""
Title: Lyrics with a character-level LSTM
Author: kerasmusic
Date created: 2026-11-26
Description: Train a character RNN on the lyrics of the Bach chorales bundled with music21
(or on your own UTF-8 text, any language), compare its perplexity with a character-bigram
baseline, and generate text at several temperatures.

A real run trains for at most 900 s (`MAX_SECONDS`; docs/char_rnn.md shows a measured
one). `--quick` is a smoke run: it took 15 s on a 2-core CPU shared with another
training job, the chorale lyrics already cached (a first run also parses 40 chorales),
with

    python examples/char_rnn.py --quick --out /tmp/char_rnn
    python examples/char_rnn.py --text lyrics.txt --prime "分开"
    python examples/char_rnn.py --text songs/ --labels songs/labels.tsv   # conditional
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasmusic.data.text import as_text_corpus  # noqa: E402
from kerasmusic.generation.char_rnn import generate_text  # noqa: E402
from kerasmusic.plotting import plot_losses  # noqa: E402
from kerasmusic.saving import load_encoding, load_model  # noqa: E402
from kerasmusic.training.char_rnn import train_char_rnn  # noqa: E402

"""
## Settings

`--quick` reads 40 chorales and trains a tiny model for a few seconds.
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="char_rnn_out")
parser.add_argument("--text", nargs="*", help="UTF-8 text files or folders (default: the "
                    "bundled chorale lyrics), or a .csv file with a 'text' column")
parser.add_argument("--labels", help="a 'file<TAB>label' file (or, for a CSV, the label "
                    "column) to train a conditional model")
parser.add_argument("--prime", default=None, help="text to start from")
parser.add_argument("--mode", default="consecutive", choices=["consecutive", "random"])
args = parser.parse_args()

OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)
LIMIT = 40 if args.quick else None  # chorale files to read; None: all 350
EPOCHS = 12 if args.quick else 40
MAX_SECONDS = 60 if args.quick else 900
UNITS = 48 if args.quick else 256
SEQ_LEN, BATCH = (32, 8) if args.quick else (64, 32)

"""
## Data

The chorale lyrics are parsed once with music21 (`music21.text.assembleLyrics`) and cached
as JSON; your own files are read as UTF-8, one document per file. Each document starts
with a separator (a blank line), so the model learns how a text begins and ends.
"""

corpus = as_text_corpus(args.text or None, args.labels, limit=LIMIT)
print(f"{corpus!r}; first document: {corpus.documents[0][:70]!r}")

"""
## Train

In `consecutive` mode the text is cut into `BATCH` long rows and every batch continues
the rows of the previous one, the LSTM state carried across (truncated backpropagation
through time, reset at each epoch). Gradients are clipped to a global norm of 5. The
weights of the epoch with the best validation perplexity are kept and saved.
"""

result = train_char_rnn(
    corpus, mode=args.mode, seq_len=SEQ_LEN, batch_size=BATCH, embed_size=32 if not args.quick
    else 16, rnn_units=UNITS, epochs=EPOCHS, learning_rate=1e-2 if args.quick else 3e-3,
    validation_fraction=0.2 if args.quick else 0.1, max_seconds=MAX_SECONDS, out=OUT, seed=0,
)
print(f"validation perplexity: char-RNN {result.best_val_perplexity:.2f} "
      f"(epoch {result.best_epoch}), character bigram {result.bigram_perplexity:.2f}, "
      f"untrained {result.initial_val_perplexity:.2f}")
plot_losses(result.history, OUT / "loss.png", keys=["loss", "val_loss"],
            title="cross-entropy (nats per character)")

"""
## Generate

Temperature 0 is greedy (argmax); 1 samples the model's distribution; higher is more
random. Top-p keeps the likeliest characters up to that probability mass; Gumbel-max
draws from the same distribution as the default inverse-CDF sampling. Generation is
one compiled loop carrying the LSTM state, never re-reading the text so far.
"""

model, encoding = result.model, result.encoding
prime = args.prime if args.prime is not None else ("Ach Gott" if not args.text else "")
labels = encoding.labels.tokens[:3] if encoding.labels is not None else [None]
samples = []
for label in labels:
    for name, kwargs in (("greedy", dict(temperature=0)),
                         ("temperature 0.5", dict(temperature=0.5)),
                         ("temperature 1.0", dict(temperature=1.0)),
                         ("top-p 0.9, Gumbel-max", dict(temperature=1.0, top_p=0.9,
                                                         method="gumbel"))):
        text = generate_text(model, encoding, prime, 160, label=label, seed=1,
                             stop_at_end=True, **kwargs)[0]
        heading = f"[{name}{', ' + label if label else ''}]"
        samples.append(f"{heading}\n{text}\n")
        print(heading, repr(text))
(OUT / "samples.txt").write_text("\n".join(samples), encoding="utf-8")

"""
## Load it back

`char_rnn.keras` holds the best weights and, inside and beside it, the character
encoding; loading uses `safe_mode=True`.
"""

loaded = load_model(OUT / "char_rnn.keras")
again = generate_text(loaded, load_encoding(OUT / "char_rnn.keras"), prime, 160,
                      label=labels[0], seed=1, temperature=0.5, stop_at_end=True)[0]
first = generate_text(model, encoding, prime, 160, label=labels[0], seed=1, temperature=0.5,
                      stop_at_end=True)[0]
print(f"reloaded model generates the same text: {again == first}")
print(f"wrote char_rnn.keras, loss.png, samples.txt and history.json to {OUT}")
