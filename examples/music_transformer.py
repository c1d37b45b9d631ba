"""
Title: Four-voice chorales with a Music Transformer
Author: kerasmusic
Date created: 2026-12-04
Description: Train the Music Transformer (relative attention, Huang et al. 2018) on the
note/duration tokens of all four voices of the chorales bundled with music21, compare
its held-out NLL with the unigram / bigram count models, then continue a held-out
chorale and write the results as MIDI and piano rolls.

A real run trains for at most 600 s (`MAX_SECONDS`), the recipe of `kerasmusic train
transformer --corpus chorales --max-seconds 600`, which on 2 CPU cores reached pitch
1.42 / duration 0.53 nats per token against the bigram's 2.89 / 0.93. `--quick` is a smoke run: it
took 20 s on a 2-core CPU shared with four other jobs, the parsed chorales already
cached, with

    python examples/music_transformer.py --quick --out /tmp/music_transformer
    python examples/music_transformer.py --corpus my_midi_folder/
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import kerasmusic as km  # noqa: E402

"""
## Settings

`--quick` trims every size (16 chorales, 2 epochs, a one-block model) for a smoke run.
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="music_transformer_out")
parser.add_argument("--corpus", default="chorales",
                    help="a corpus name, a folder of MIDI/score files, or a file")
args = parser.parse_args()

PIECES = 16 if args.quick else None  # None: every piece of the corpus
EPOCHS = 2 if args.quick else 50
MAX_SECONDS = 30 if args.quick else 600
SEQ_LEN = 32
SHAPE = (dict(n_layers=1, d_model=32, n_heads=2) if args.quick
         else dict(n_layers=4, d_model=128, n_heads=4))
N_EVENTS = 40 if args.quick else 200
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)

"""
## Train

Every voice's notes become (pitch, duration) events; a chord is split into its notes
(the duration token "+" says the chord goes on), so the pitch vocabulary is the single
pitches. One Transformer step reads one event, both embeddings summed; two softmax
heads predict the next event. The pieces are split 9:1 (the same held-out pieces as
the attention LSTM's trainer for the same seed), the training pieces get transposed
copies, the learning rate warms up and then follows a cosine to zero at
`MAX_SECONDS`, and the best validation epoch is kept.
"""

corpus = km.load_corpus(args.corpus, limit=PIECES)
result = km.train_music_transformer(
    corpus.pieces, tracks=None, seq_len=SEQ_LEN, dropout=0.1, learning_rate=2e-3,
    warmup_steps=20 if args.quick else 200, epochs=EPOCHS, max_seconds=MAX_SECONDS,
    seed=0, verbose=2, **SHAPE)
history = result.history
print(f"validation loss: {result.initial_val_loss:.3f} untrained -> "
      f"{min(history['val_loss']):.3f} (best epoch)")
# Held-out NLL per stream (nats per token) next to the count models on the same tokens.
print(result.quality.table())
km.plot_losses(history, OUT / "loss.png")
km.save_model(result.model, OUT / "music_transformer.keras", result.encoding)

"""
## Generate

`result.model` has the attention LSTM's interface (a window of events in, the next
event out), so `km.generate` drives it: here it continues the first 16 events of a
held-out chorale three times, with temperature 0.7, and must give at least 16 events
of its own before it may end the piece.
"""

primer = result.validation_pieces[0]
primer_events = result.encoding.to_tokens(primer)[:16]  # (pitch, duration) token pairs
pieces = km.generate(result.model, result.encoding, N_EVENTS, primer=primer_events,
                     temperature=0.7, n_pieces=3, min_events=16, seed=1, tempo=90)
for i, piece in enumerate(pieces):
    km.write_midi(piece, OUT / f"continuation_{i}.mid")
    back = km.read_midi(OUT / f"continuation_{i}.mid")
    print(f"continuation_{i}.mid read back: {len(back.notes)} notes over "
          f"{float(back.duration):.0f} quarters")
km.plot_piano_roll(pieces[0], OUT / "continuation_0.png")
print(f"wrote {len(pieces)} MIDI files, a piano roll and the model to {OUT}")
