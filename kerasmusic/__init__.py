"""kerasmusic: symbolic music and text generation with Keras 3.

Data flows one way: file -> :class:`Piece` -> representation (token ids) ->
``tf.data`` -> model -> sampler -> token ids -> :class:`Piece` -> MIDI.

The public API is available here::

    import kerasmusic as km
    corpus = km.load_corpus("chorales")
    result = km.train_note_lstm(corpus.pieces, tracks=[0], epochs=5)
    pieces = km.generate(result.model, result.encoding, n_events=64, seed=1)
    km.write_midi(pieces[0], "out.mid")

Names are loaded on first use (PEP 562): ``import kerasmusic`` itself imports neither
TensorFlow nor music21, so the ``kerasmusic`` command answers ``--help`` at once.
Importing :mod:`kerasmusic.models` (which :func:`load_model` does, as does any name
here once Keras is loaded) registers the library's layers with Keras, so
``keras.saving.load_model`` reads kerasmusic models with ``safe_mode=True``.
"""

import importlib as _importlib
import sys as _sys
import types as _types

from kerasmusic import tf_environment as _tf_environment

# Before TensorFlow is imported: the TensorFlow backend, C++ INFO lines hidden
# (warnings and errors stay); an explicit setting in the environment wins.
_tf_environment.library_defaults()

__version__ = "0.1.0"

# Submodules that are public names themselves.
_SUBMODULES = ("metrics", "quality", "roll_metrics")

# Public name -> the module that defines it, grouped by module.
_EXPORTS = {
    "kerasmusic.data.augment": (
        "DEFAULT_SHIFTS", "pitch_range_of", "random_phrase_transpose", "transposed_copies",
    ),
    "kerasmusic.data.corpus": ("Corpus", "load_corpus", "read_file", "read_file_pieces"),
    "kerasmusic.data.events": (
        "DEFAULT_TIME_VALUES", "EventEncoding", "event_arrays_datasets", "event_dataset",
        "event_windows", "make_event_datasets",
    ),
    "kerasmusic.data.frames": (
        "EncodedSplit", "FrameEncoding", "frame_dataset", "frame_windows", "make_frame_datasets",
        "rolls_dataset", "split_encoded_pieces",
    ),
    "kerasmusic.data.midi": ("read_midi", "write_midi"),
    "kerasmusic.data.note_tokens": (
        "REST", "START", "UNK", "NoteDurationEncoding", "pitch_name", "pitch_number",
    ),
    "kerasmusic.data.notes": ("Note", "Piece", "Track"),
    "kerasmusic.data.pianoroll": ("MultiTrackPianoRoll",),
    "kerasmusic.data.pipeline": (
        "make_note_duration_datasets", "note_duration_dataset", "sliding_windows", "split_pieces",
        "split_unique",
    ),
    "kerasmusic.data.remi": ("RemiEncoding",),
    "kerasmusic.data.scaled_tokens": ("ScaledTokenEncoding",),
    "kerasmusic.data.scores": ("read_score", "read_scores", "write_musicxml"),
    "kerasmusic.data.shards": (
        "ShardError", "ShardReport", "pianoroll_shard_dataset", "read_shard_manifest",
        "write_pianoroll_shards",
    ),
    "kerasmusic.data.text": (
        "CharEncoding", "TextCorpus", "as_text_corpus", "chorale_lyrics", "consecutive_batches",
        "load_text_csv", "load_texts", "make_text_datasets", "random_windows", "read_label_file",
        "split_corpus", "text_dataset",
    ),
    "kerasmusic.data.tone_pipeline": ("tone_dataset",),
    "kerasmusic.data.tones": ("ToneEncoding",),
    "kerasmusic.data.transforms": ("key_shift", "normalize_key", "transpose"),
    "kerasmusic.data.vocabulary": ("Vocabulary",),
    "kerasmusic.errors": (
        "CorpusError", "EmptyMidiError", "EmptyTextError", "EncodingError", "EncodingFileError",
        "FileReadError",
        "InvalidArgumentError", "KerasMusicError", "MidiReadError", "ModelFileError",
        "NonFiniteLossError", "NoPitchedNotesError", "ScoreReadError", "TextReadError",
        "UnknownCharactersError", "UnknownLabelError", "UnknownTokenError", "VocabularyError",
        "VocabularyMismatchError",
    ),
    "kerasmusic.generation.char_rnn": (
        "generate_char_ids", "generate_char_ids_reference", "generate_text",
    ),
    "kerasmusic.generation.event_lstm": (
        "generate_event_ids", "generate_event_ids_reference", "generate_events",
    ),
    "kerasmusic.generation.musegan": (
        "condition_from_piece", "condition_tracks_of", "generate_rolls",
    ),
    "kerasmusic.generation.music_transformer": (
        "generate_sequence", "generate_sequence_reference",
    ),
    "kerasmusic.generation.remi": ("generate_accompaniment", "generate_remi"),
    "kerasmusic.generation.note_lstm": ("generate", "generate_ids", "generate_ids_reference"),
    "kerasmusic.generation.pianoroll_rnn": (
        "bernoulli_keys", "generate_frames", "generate_frames_reference", "generate_pianoroll",
        "sample_keys_jointly",
    ),
    "kerasmusic.models.attention_lstm": (
        "attention_model", "attention_weights", "check_encoding", "create_network",
    ),
    "kerasmusic.models.char_rnn": (
        "CharRNNCore", "TokenOneHot", "build_char_rnn", "build_stateful_char_rnn",
    ),
    "kerasmusic.models.crnngan": ("build_discriminator", "build_generator"),
    "kerasmusic.models.crnngan_recurrent": (
        "build_recurrent_discriminator", "build_recurrent_generator", "teacher_forced_generator",
    ),
    "kerasmusic.models.event_lstm": ("MultiOneHot", "SplitLast", "build_event_lstm"),
    "kerasmusic.models.joint_keys": ("MadeKeys", "NadeKeys"),
    "kerasmusic.models.layers": ("TemporalSoftmax", "WeightedSum"),
    "kerasmusic.models.music_transformer": (
        "LastStep", "PositionEmbedding", "RelativeCausalSelfAttention", "build_music_transformer",
        "last_step_model", "note_duration_transformer",
    ),
    "kerasmusic.models.musegan": (
        "GENERATOR_MODES", "NoteOnsets", "TakeIndex", "build_bar_generator", "build_critic",
        "build_generator_network", "build_temporal_network", "build_track_encoder",
    ),
    "kerasmusic.models.patch_conv": ("PatchConv2D", "PatchConv2DTranspose", "PatchConv3D"),
    "kerasmusic.models.pianoroll_rnn": ("build_pianoroll_rnn",),
    "kerasmusic.models.transformer_cache": ("TransformerStepper",),
    "kerasmusic.plotting": ("plot_losses", "plot_piano_roll", "plot_roll_grid"),
    "kerasmusic.presets": ("Preset", "get_preset", "load_preset", "presets"),
    "kerasmusic.quality": (
        "QualityReport", "StreamQuality", "backoff_bigram_nll", "char_rnn_quality",
        "evaluate_quality", "event_lstm_quality", "frame_count_nll", "ngram_nll",
        "note_lstm_quality", "pair_ngram_nll", "pianoroll_quality", "remi_quality",
    ),
    "kerasmusic.sampling": ("Sampler", "draw_uniforms", "sample"),
    "kerasmusic.saving": (
        "encoding_path", "load_encoding", "load_model", "quality_path", "save_model",
    ),
    "kerasmusic.training.char_rnn": (
        "CharRNNResult", "bigram_perplexity", "evaluate_perplexity", "train_char_rnn",
    ),
    "kerasmusic.training.crnngan": (
        "CRNNGAN", "CRNNGANConfig", "CRNNGANResult", "feature_matching_loss", "freeze_decision",
        "train_crnngan",
    ),
    "kerasmusic.training.event_lstm": ("EventLSTMResult", "train_event_lstm"),
    "kerasmusic.training.musegan": (
        "MuseGAN", "MuseGANConfig", "MuseGANResult", "SampleWriter", "TensorBoardScalars",
        "encode_phrases", "gradient_penalty", "musegan_dataset", "musegan_quality",
        "train_musegan",
    ),
    "kerasmusic.roll_metrics": ("ROLL_TARGETS", "RollComparison", "compare_rolls"),
    "kerasmusic.training.music_transformer": ("TransformerResult", "train_music_transformer"),
    "kerasmusic.training.note_lstm": ("TrainResult", "train_note_lstm"),
    "kerasmusic.training.pianoroll_rnn": ("PianoRollRNNResult", "train_pianoroll_rnn"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    """Import the module behind a public name on first use and keep the name here."""
    if name in _SUBMODULES:
        value = _importlib.import_module(f"kerasmusic.{name}")
    elif name in _WHERE:
        value = getattr(_importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'kerasmusic' has no attribute {name!r}")
    globals()[name] = value
    if "keras" in _sys.modules:
        _importlib.import_module("kerasmusic.models")  # registers the layers with Keras
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """This package's module type: a public name that is also a submodule's name
    (``presets``) stays the function when that submodule is first imported."""

    def __setattr__(self, name, value):
        if isinstance(value, _types.ModuleType) and _WHERE.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package

# Every public name: the table's, and the submodules above.
__all__ = sorted([*_SUBMODULES, *_WHERE], key=str.lower)
