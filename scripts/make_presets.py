"""Train the presets shipped in ``kerasmusic/preset_models`` from the bundled data.

    python scripts/make_presets.py                      # all presets
    python scripts/make_presets.py --only chorale-soprano-lstm

Each preset is trained for a fixed number of epochs from a fixed seed (no time
budget), so a rerun on the same TensorFlow build gives the same weights. Every run
prints its held-out quality table and writes the ``.keras`` file and its
``.quality.json`` beside it. On an idle 2-core CPU: about 3 minutes for the soprano
LSTM and 4 for the lyrics char-RNN.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import kerasmusic as km  # noqa: E402
from kerasmusic.presets import PRESET_DIR  # noqa: E402


def soprano_lstm(out: Path) -> km.QualityReport:
    """The demo's recipe on the key-normalised soprano lines, run to its best epoch."""
    pieces = [km.normalize_key(p) for p in km.load_corpus("chorales").pieces]
    result = km.train_note_lstm(
        pieces, tracks=[0], seq_len=8, embed_size=32, rnn_units=64, epochs=40, batch_size=64,
        learning_rate=0.003, dropout=0.2, transpose=None, seed=0, verbose=2)
    km.save_model(result.model, out, result.encoding)
    return result.quality


def lyrics_charrnn(out: Path) -> km.QualityReport:
    """``kerasmusic train charrnn`` defaults on the chorale lyrics, a fixed epoch count."""
    result = km.train_char_rnn(None, rnn_units=256, learning_rate=3e-3, epochs=CHARRNN_EPOCHS,
                               seed=0)
    km.save_model(result.model, out, result.encoding)
    return result.quality


CHARRNN_EPOCHS = 60
RECIPES = {"chorale-soprano-lstm": soprano_lstm, "chorale-lyrics-charrnn": lyrics_charrnn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(RECIPES), action="append",
                        help="train just this preset (repeatable)")
    parser.add_argument("--out", type=Path, default=PRESET_DIR,
                        help=f"folder for the files (default: {PRESET_DIR})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for preset in km.presets(installed_only=False):
        if args.only and preset.name not in args.only:
            continue
        start = time.monotonic()
        path = args.out / preset.file
        quality = RECIPES[preset.name](path)
        quality.save(km.quality_path(path))
        print(quality.table())
        print(f"{preset.name}: wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in "
              f"{time.monotonic() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
