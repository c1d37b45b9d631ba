"""
Title: A polyphonic piano-roll RNN
Author: kerasmusic
Date created: 2026-11-25
Description: Turn Bach chorales (or any corpus) into 88-key frames, train an LSTM that
predicts which keys sound in the next sixteenth note, sample new music key by key, and
write it as MIDI.

A real run trains for at most 600 s (`MAX_SECONDS`). `--quick` is a smoke run: it took
9 s on a 2-core CPU shared with another training job, the parsed chorales already
cached (a first run also parses them: about 30 s more), with

    python examples/pianoroll_rnn.py --quick --out /tmp/pianoroll_rnn
    python examples/pianoroll_rnn.py --corpus nottingham-dataset   # the seed's data set
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402
from kerasmusic.data.frames import FrameEncoding  # noqa: E402
from kerasmusic.generation.pianoroll_rnn import generate_pianoroll  # noqa: E402
from kerasmusic.training.pianoroll_rnn import train_pianoroll_rnn  # noqa: E402

"""
## Settings
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="pianoroll_rnn_out")
parser.add_argument("--corpus", default="chorales",
                    help="a corpus name, a folder of MIDI/score files, or a file")
args = parser.parse_args()

PIECES = 12 if args.quick else None
EPOCHS = 2 if args.quick else 40
MAX_SECONDS = 30 if args.quick else 600
UNITS, LAYERS = (24, 1) if args.quick else (192, 2)
SEQ_LEN = 32 if args.quick else 64
N_STEPS = 32 if args.quick else 128
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)

"""
## Data

Every piece becomes a matrix of frames x 88 keys, one frame per sixteenth note, with
a 1 where a key sounds: all voices of a chorale land on the one keyboard. Each
training window of 64 frames has the same window shifted by one frame as its target.
"""

corpus = km.load_corpus(args.corpus, limit=PIECES)
encoding = FrameEncoding(step="1/4")
frames = encoding.encode(corpus.pieces[0])
print(f"{len(corpus.pieces)} pieces; the first is {frames.shape[0]} frames long with at "
      f"most {int(frames.sum(1).max())} keys at once")

"""
## Train

`train_pianoroll_rnn` splits the pieces into training and validation by piece, adds
transposed copies of the training pieces, builds `build_pianoroll_rnn` (LSTMs, then a
sigmoid per key), trains it with a per-key binary cross-entropy and keeps the best
validation epoch.
"""

result = train_pianoroll_rnn(corpus.pieces, encoding=encoding, seq_len=SEQ_LEN, units=UNITS,
                             n_layers=LAYERS, epochs=EPOCHS, max_seconds=MAX_SECONDS,
                             learning_rate=0.003, seed=0, verbose=2)
print(f"validation loss: {result.initial_val_loss:.4f} untrained -> "
      f"{result.history['val_loss'][-1]:.4f} after {len(result.history['loss'])} epochs")
# Whole held-out pieces, NLL per frame summed over the keys, next to per-key count models.
print(result.quality.table())
km.plot_losses(result.history, OUT / "loss.png")
km.save_model(result.model, OUT / "pianoroll_rnn.keras", result.encoding)

"""
## Generate

Each key of the next frame is a coin flip with the model's probability for it;
`temperature` below 1 makes the model more decided. Generation steps the LSTM cells
inside one compiled loop, primed here with the first two bars of a piece.
"""

pieces = generate_pianoroll(result.model, result.encoding, N_STEPS, primer=corpus.pieces[-1],
                            primer_steps=32, temperature=0.7, n_pieces=3, seed=1, tempo=80)
for i, piece in enumerate(pieces):
    km.write_midi(piece, OUT / f"generated_{i}.mid")
km.plot_piano_roll(pieces[0], OUT / "generated_0.png")


def keys_at_once(piece):
    roll = encoding.encode(piece)
    sounding = roll.sum(1)
    return float(np.mean(sounding[sounding > 0]))


print(f"keys sounding together: real {keys_at_once(corpus.pieces[-1]):.2f}, generated "
      f"{np.mean([keys_at_once(p) for p in pieces]):.2f}")
print(f"wrote {len(pieces)} MIDI files, a piano roll and the model to {OUT}")
