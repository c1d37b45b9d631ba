"""
Title: MuseGAN on Bach chorales: four voices as multi-track piano rolls
Author: kerasmusic
Date created: 2026-11-25
Description: Turn every 2-bar phrase of the Bach chorales into a (bars, steps,
pitches, tracks) piano roll with one track per voice (SATB), train MuseGAN's hybrid
generator against its 3-D convolutional critic as a WGAN-GP, write the samples as
multi-track MIDI and piano-roll pictures, and compare the paper's metrics (EB, UPC,
QN, polyphony, TD) of the training phrases with those of the generated ones.

A full run is 60 epochs of 100 critic steps: hours on 2 CPU cores (docs/musegan.md
measured about 25 minutes for 10 epochs of 50 steps). `--quick` shows the plumbing, not
music: it took 34 s on a 2-core CPU shared with another training job, the parsed
chorales already cached (a first run also parses them: about 30 s more), with

    python examples/musegan.py --quick --out /tmp/musegan
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import kerasmusic as km  # noqa: E402
from kerasmusic import metrics, roll_metrics  # noqa: E402

"""
## Settings

The seed's shapes: 2 bars of 16 sixteenth notes, 84 pitches (C1..B7), 4 tracks,
noise vectors of 32. `--quick` keeps the shapes (the layer stacks need them) but uses
few chorales, small noise vectors and a few steps.
"""

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="tiny run for tests")
parser.add_argument("--out", default="musegan_out")
parser.add_argument("--epochs", type=int, default=None)
args = parser.parse_args()

PIECES = 8 if args.quick else None
EPOCHS = args.epochs or (2 if args.quick else 60)
STEPS_PER_EPOCH = 5 if args.quick else 100  # critic steps; a generator step every 5th
BATCH = 8 if args.quick else 32
Z_DIM = 8 if args.quick else 32
N_SAMPLES = 4 if args.quick else 16
OUT = Path(args.out)
OUT.mkdir(parents=True, exist_ok=True)

"""
## Data

Every bar of a chorale starts a 2-bar phrase; voices are tracks 0..3 (soprano, alto,
tenor, bass). Silence stays silence (all pitches off). Chorales are moved to C major /
A minor first so the GAN need not learn 24 keys from 350 pieces.
"""

corpus = km.load_corpus("chorales", limit=PIECES)
pieces = [km.normalize_key(p) for p in corpus.pieces]
encoding = km.MultiTrackPianoRoll(tracks=[0, 1, 2, 3], programs=[52, 52, 52, 52])
print(f"{len(pieces)} chorales")

"""
## Train

Five critic steps (each on a new real batch) per generator step; critic loss
mean(D(fake)) - mean(D(real)) + 10 x gradient penalty; Adam(1e-3, 0.5, 0.9).
Sample MIDI files and a roll picture land in `OUT/samples` every few epochs, the
scalars in `OUT/logs` (`tensorboard --logdir OUT/logs`).
"""

config = km.MuseGANConfig(z_dim=Z_DIM)
result = km.train_musegan(
    pieces, encoding, epochs=EPOCHS, batch_size=BATCH, steps_per_epoch=STEPS_PER_EPOCH,
    config=config, checkpoint_dir=OUT / "checkpoints", sample_dir=OUT / "samples",
    sample_every=max(1, EPOCHS // 6), log_dir=OUT / "logs", seed=0)
km.plot_losses(result.history, OUT / "losses.png", title="MuseGAN (WGAN-GP)",
               keys=["critic_loss", "generator_loss", "wasserstein"])
km.save_model(result.gan.generator, OUT / "generator.keras", encoding)

"""
## Generate, write MIDI and pictures, compare the metrics
"""

generated = result.gan.generate(N_SAMPLES, seed=1)
for i, phrase in enumerate(generated):
    km.write_midi(encoding.decode(phrase, tempo=80, name=f"sample {i}"),
                  OUT / f"sample_{i}.mid")
km.plot_roll_grid(generated[:4], OUT / "generated.png", track_names=["S", "A", "T", "B"],
                  title="generated phrases")
rng = np.random.default_rng(0)
phrases = result.phrases  # the training phrases train_musegan encoded
real = phrases[rng.choice(len(phrases), size=min(len(phrases), 500), replace=False)]
km.plot_roll_grid(real[:4], OUT / "real.png", track_names=["S", "A", "T", "B"],
                  title="training phrases")

rows = {"train": roll_metrics.roll_summary(real), "generated": roll_metrics.roll_summary(
    generated)}
print(metrics.format_table(rows))
per_track = {name: roll_metrics.roll_statistics(r) for name, r in
             (("train", real), ("generated", generated))}
for key in ("EB", "UPC", "QN"):
    print(f"{key} per track (S, A, T, B): " + "; ".join(
        f"{name} " + " ".join(f"{v:.2f}" for v in stats[key])
        for name, stats in per_track.items()))
print(f"wrote {N_SAMPLES} MIDI files, generated.png, real.png, losses.png and "
      f"generator.keras to {OUT}")
