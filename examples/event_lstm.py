"""
Title: An LSTM composer over [note, velocity, time] events
Author: kerasmusic
Date created: 2026-11-25
Description: The three-channel event LSTM: each MIDI note message is a note, a velocity
(0 = note off) and the time since the previous message in 12 classes. One LSTM reads
windows of 30 events, three softmax heads predict the next one, and an L1 penalty
keeps it from overfitting. Sample new pieces and write them as MIDI.

A real run trains for at most 600 s (`MAX_SECONDS`). `--quick` is a smoke run: it took
33 s on a 2-core CPU shared with another training job, the parsed chorales already
cached (a first run also parses them: about 30 s more), with

    python examples/event_lstm.py --quick --out /tmp/event_lstm
    python examples/event_lstm.py --corpus my_midi_folder/
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402
from kerasmusic.data.events import EventEncoding  # noqa: E402
from kerasmusic.generation.event_lstm import generate_events  # noqa: E402
from kerasmusic.training.event_lstm import train_event_lstm  # noqa: E402

"""
## Settings
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="event_lstm_out")
parser.add_argument("--corpus", default="chorales",
                    help="a corpus name, a folder of MIDI/score files, or a file")
args = parser.parse_args()

PIECES = 12 if args.quick else None
EPOCHS = 2 if args.quick else 30
MAX_SECONDS = 30 if args.quick else 600
UNITS = 32 if args.quick else 256
N_EVENTS = 60 if args.quick else 400
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)

"""
## Data

Every note gives two events: its note-on (velocity 1..127) and its note-off
(velocity 0). Times are in quarter notes, quantised to 12 classes; class 0 is
"at the same time" (the notes of a chord, an off and the next on).
"""

corpus = km.load_corpus(args.corpus, limit=PIECES)
encoding = EventEncoding(seq_len=30)
events = encoding.encode(corpus.pieces[0])
print(f"{len(corpus.pieces)} pieces; the first has {len(events)} events, time classes used: "
      f"{np.bincount(events[:, 2], minlength=encoding.n_times).tolist()}")

"""
## Train

Pieces are split 9:1 by piece and the training pieces get transposed copies. The loss
is the sum of the three heads' cross-entropies plus the L1 penalty; Keras prints each
head's loss and accuracy; the best validation epoch is kept.
"""

result = train_event_lstm(corpus.pieces, encoding=encoding, units=UNITS, dropout=0.5,
                          l1=1e-5, epochs=EPOCHS, max_seconds=MAX_SECONDS, seed=0, verbose=2)
history = result.history
print(f"validation loss: {result.initial_val_loss:.3f} untrained -> "
      f"{history['val_loss'][-1]:.3f}; validation accuracy note "
      f"{history['val_note_acc'][-1]:.2f}, velocity {history['val_velocity_acc'][-1]:.2f}, "
      f"time {history['val_time_acc'][-1]:.2f}")
print(result.quality.table())  # each head next to its unigram / bigram count models
km.plot_losses(history, OUT / "loss.png",
               keys=["loss", "val_loss", "note_loss", "val_note_loss"])
km.save_model(result.model, OUT / "event_lstm.keras", result.encoding)

"""
## Generate

As in the seed, the first 30 events of a piece start the window; each new event is
sampled head by head (here with temperature 0.8 and nucleus sampling) and appended.
"""

pieces = generate_events(result.model, result.encoding, corpus.pieces[-1], N_EVENTS,
                         primer_events=30, temperature=0.8, top_p=0.95, n_pieces=3, seed=1,
                         tempo=90)
for i, piece in enumerate(pieces):
    km.write_midi(piece, OUT / f"generated_{i}.mid")
km.plot_piano_roll(pieces[0], OUT / "generated_0.png")
print(f"notes per generated piece: {[len(p.notes) for p in pieces]}")
print(f"wrote {len(pieces)} MIDI files, a piano roll and the model to {OUT}")
