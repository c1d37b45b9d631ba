"""Trained models shipped inside the package: generate with no training.

Each preset is a ``.keras`` file (its encoding inside) and its held-out quality
report, trained on the bundled data by ``scripts/make_presets.py`` (the command of
each preset's ``recipe``). List them with :func:`presets`, load one with
:func:`load_preset`, or sample from the command line::

    kerasmusic generate --preset chorale-soprano-lstm --out melody.mid
    kerasmusic generate --preset chorale-lyrics-charrnn --prime "Ach Gott"
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kerasmusic.errors import KerasMusicError

#: Where the preset files live inside the installed package.
PRESET_DIR = Path(__file__).resolve().parent / "preset_models"


@dataclasses.dataclass(frozen=True)
class Preset:
    """One shipped model.

    Attributes:
        name: what :func:`load_preset` and ``--preset`` take.
        family: the model family ("attention LSTM", "char-RNN").
        description: what it was trained on, in words.
        file: the ``.keras`` file's name in :data:`PRESET_DIR`.
        recipe: the command that trains it again from the bundled data.
    """

    name: str
    family: str
    description: str
    file: str
    recipe: str

    @property
    def path(self) -> Path:
        """The preset's ``.keras`` file."""
        return PRESET_DIR / self.file

    @property
    def available(self) -> bool:
        """Whether the file is installed."""
        return self.path.exists()

    def quality(self):
        """The held-out :class:`~kerasmusic.QualityReport` measured when it was trained."""
        from kerasmusic.quality import QualityReport
        from kerasmusic.saving import quality_path

        report = quality_path(self.path)
        if not report.exists():
            raise KerasMusicError(f"preset {self.name!r}: no quality report at {report}")
        return QualityReport.load(report)


_PRESETS = (
    Preset("chorale-soprano-lstm", "attention LSTM",
           "the soprano line of the bundled Bach chorales moved to C major / A minor, the "
           "demo's recipe (window 8, 32-d embeddings, 2 x 64 LSTM, dropout 0.2)",
           "chorale_soprano_lstm.keras",
           "python scripts/make_presets.py --only chorale-soprano-lstm"),
    Preset("chorale-lyrics-charrnn", "char-RNN",
           "the lyrics of the bundled Bach chorales (German), the `train charrnn` "
           "defaults (one 256-unit LSTM, consecutive windows of 64)",
           "chorale_lyrics_charrnn.keras",
           "python scripts/make_presets.py --only chorale-lyrics-charrnn"),
)


def presets(*, installed_only: bool = True) -> list[Preset]:
    """The shipped presets (with ``installed_only=False``, also those without files)."""
    return [p for p in _PRESETS if p.available or not installed_only]


def get_preset(name: str) -> Preset:
    """The preset called ``name``.

    Raises:
        KerasMusicError: no such preset (the message lists the ones there are), or
            its file is not installed.
    """
    for preset in _PRESETS:
        if preset.name == name:
            if not preset.available:
                raise KerasMusicError(f"preset {name!r}: its file {preset.path} is not "
                                      f"installed; train it with: {preset.recipe}")
            return preset
    names = ", ".join(p.name for p in _PRESETS)
    raise KerasMusicError(f"no preset called {name!r}; there are: {names}")


def load_preset(name: str):
    """Load a shipped model and its encoding: ``model, encoding = load_preset(name)``.

    The model loads with ``safe_mode=True`` like any model the library saves, and
    generates with the usual functions (:func:`~kerasmusic.generate`,
    :func:`~kerasmusic.generate_text`).
    """
    from kerasmusic.saving import load_encoding, load_model

    preset = get_preset(name)
    encoding = load_encoding(preset.path)
    return load_model(preset.path, encoding), encoding
