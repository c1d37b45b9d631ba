"""
Title: C-RNN-GAN on Bach chorales, against its MLE baseline
Author: kerasmusic
Date created: 2026-11-24
Description: Train the recurrent C-RNN-GAN of Mogren (2016) with the paper's recipe
(MLE pre-training with a length curriculum, feature matching, freezing) and the same
generator trained by MLE only, generate from both, write MIDI, and compare the
paper's statistics with the real chorales.

A real run is 60 epochs over all the chorales (not timed here; each epoch is a pass
over the crops). `--quick` is a smoke run: it took 28 s on a 2-core CPU shared with
another training job, the parsed chorales already cached (a first run also parses them:
about 30 s more), with

    python examples/crnngan.py --quick --out /tmp/crnngan
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import kerasmusic as km  # noqa: E402
from kerasmusic import metrics  # noqa: E402
from kerasmusic.training.crnngan import CRNNGANConfig, train_crnngan  # noqa: E402

"""
## Settings
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="crnngan_out")
args = parser.parse_args()

PIECES = 16 if args.quick else None
SEQ_LEN = 16 if args.quick else 100
UNITS = 16 if args.quick else 350
EPOCHS, PRETRAIN = (3, 1) if args.quick else (60, 15)
STEPS = 4 if args.quick else None
N_SAMPLES = 4 if args.quick else 16
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)

"""
## Data

All four voices of each chorale, as tones of 4 real values: time since the previous
onset (0 inside a chord), length, pitch, velocity. Validation pieces stay out of
training and serve as the "real" row of the table.
"""

corpus = km.load_corpus("chorales", limit=PIECES)
train, real = km.split_pieces(corpus.pieces, validation_fraction=0.2, seed=0)
print(f"{len(train)} training chorales, {len(real)} held out")

"""
## Train the GAN and the baseline
"""

config = CRNNGANConfig(units=UNITS)
gan = train_crnngan(train, seq_len=SEQ_LEN, epochs=EPOCHS, pretrain_epochs=PRETRAIN,
                    steps_per_epoch=STEPS, config=config, seed=0)
print("baseline: the same generator, MLE only")
baseline = train_crnngan(train, seq_len=SEQ_LEN, epochs=EPOCHS, pretrain_epochs=EPOCHS,
                         steps_per_epoch=STEPS, config=config, seed=0)
km.plot_losses({k: v for k, v in gan.history.items() if k.endswith("loss")},
               OUT / "gan_losses.png", title="C-RNN-GAN")

"""
## Generate, write MIDI, compare statistics

Real pieces are cut to the generated length so counts such as repetitions compare.
"""

rows = {"real": metrics.music_statistics(
    [gan.encoding.decode(gan.encoding.encode(p)[:SEQ_LEN]) for p in real])}
for name, result in (("baseline", baseline), ("gan", gan)):
    samples = result.gan.generate(N_SAMPLES, SEQ_LEN, seed=1)
    pieces = [result.encoding.decode(s, tempo=90) for s in samples]
    for i, piece in enumerate(pieces):
        km.write_midi(piece, OUT / f"{name}_{i}.mid")
    rows[name] = metrics.music_statistics(pieces)
km.save_model(gan.gan.generator, OUT / "generator.keras", gan.encoding)
print(metrics.format_table(rows))
print(f"wrote {2 * N_SAMPLES} MIDI files, generator.keras and gan_losses.png to {OUT}")
