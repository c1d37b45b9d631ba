"""
Title: Bach chorale melodies with an attention LSTM
Author: kerasmusic
Date created: 2026-11-24
Description: Train `create_network` on the chorales bundled with music21, look at its
attention, generate new melodies and write them as MIDI, a piano roll and MusicXML.

A real run trains for at most 600 s (`MAX_SECONDS`). `--quick` is a smoke run: it took
23 s on a 2-core CPU shared with another training job, the parsed chorales already
cached (a first run also parses them: about 30 s more), with

    python examples/attention_lstm.py --quick --out /tmp/attention_lstm
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402

"""
## Settings

`--quick` trims every size (24 chorales, 2 epochs, a tiny model) for a smoke run.
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="attention_lstm_out")
args = parser.parse_args()

PIECES = 24 if args.quick else None  # None: all ~350 distinct chorales
EPOCHS = 2 if args.quick else 30
MAX_SECONDS = 30 if args.quick else 600
SEQ_LEN = 32
EMBED_SIZE, RNN_UNITS = (16, 32) if args.quick else (64, 192)
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)

"""
## Data

`load_corpus` parses the chorales once (MusicXML, through music21) and caches the
parsed notes as JSON, so the second run starts in seconds. Each chorale is a `Piece`
with one track per voice; we train on the soprano line (`tracks=[0]`). Rests are
tokens of their own, durations are exact quarter lengths.
"""

corpus = km.load_corpus("chorales", limit=PIECES)
print(f"{len(corpus.pieces)} chorales, {len(corpus.errors)} unreadable")
encoding = km.NoteDurationEncoding(seq_len=SEQ_LEN, tracks=[0]).fit(corpus.pieces)
print("first events of the first chorale:", encoding.to_tokens(corpus.pieces[0])[:6])

"""
## Train

`train_note_lstm` fits the encoding, splits the chorales *by piece* into training
and validation, builds `create_network` and calls `fit`.
"""

result = km.train_note_lstm(
    corpus.pieces, tracks=[0], seq_len=SEQ_LEN, embed_size=EMBED_SIZE, rnn_units=RNN_UNITS,
    epochs=EPOCHS, learning_rate=0.003, max_seconds=MAX_SECONDS, seed=0,
)
km.plot_losses(result.history, OUT / "loss.png")
km.save_model(result.model, OUT / "chorale_lstm.keras", result.encoding)

"""
## Where does the model look?

The attention weights say how much each of the last 32 events counted for the next one.
"""

pitch_ids, duration_ids = result.encoding.encode(corpus.pieces[0])
window = slice(0, SEQ_LEN)
weights = km.attention_weights(result.model, pitch_ids[window], duration_ids[window])
print("attention over the first window (most weight on steps):",
      np.argsort(weights)[::-1][:5].tolist())

"""
## Generate

Sampling runs as one compiled loop. Temperature 0 is greedy; top-k / top-p narrow
the choice. Each piece can be primed with the opening of a real chorale.
"""

primer = result.encoding.to_tokens(corpus.pieces[-1])[:8]
pieces = km.generate(result.model, result.encoding, n_events=64, primer=primer,
                     temperature=0.7, top_p=0.95, n_pieces=3, seed=1, tempo=90)
for i, piece in enumerate(pieces):
    km.write_midi(piece, OUT / f"melody_{i}.mid")
km.plot_piano_roll(pieces[0], OUT / "melody_0.png")
km.write_musicxml(pieces[0], OUT / "melody_0.musicxml")
print(f"wrote {len(pieces)} MIDI files, a piano roll and MusicXML to {OUT}")
