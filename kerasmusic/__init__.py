"""kerasmusic: symbolic music and text generation with Keras 3.

Data flows one way: file -> :class:`Piece` -> representation (token ids) ->
``tf.data`` -> model -> sampler -> token ids -> :class:`Piece` -> MIDI.

The public API is re-exported here::

    import kerasmusic as km
    corpus = km.load_corpus("chorales")
    result = km.train_note_lstm(corpus.pieces, tracks=[0], epochs=5)
    pieces = km.generate(result.model, result.encoding, n_events=64, seed=1)
    km.write_midi(pieces[0], "out.mid")
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Hide TensorFlow's C++ INFO lines (XLA start-up, CUDA stubs); warnings and errors stay.
# Takes effect only if TensorFlow was not imported first; an explicit setting wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from kerasmusic import metrics, quality, roll_metrics  # noqa: E402
from kerasmusic.data.augment import (  # noqa: E402
    DEFAULT_SHIFTS,
    pitch_range_of,
    random_phrase_transpose,
    transposed_copies,
)
from kerasmusic.data.corpus import Corpus, load_corpus, read_file, read_file_pieces  # noqa: E402
from kerasmusic.data.events import (  # noqa: E402
    DEFAULT_TIME_VALUES,
    EventEncoding,
    event_arrays_datasets,
    event_dataset,
    event_windows,
    make_event_datasets,
)
from kerasmusic.data.frames import (  # noqa: E402
    EncodedSplit,
    FrameEncoding,
    frame_dataset,
    frame_windows,
    make_frame_datasets,
    rolls_dataset,
    split_encoded_pieces,
)
from kerasmusic.data.midi import read_midi, write_midi  # noqa: E402
from kerasmusic.data.note_tokens import (  # noqa: E402
    REST,
    START,
    UNK,
    NoteDurationEncoding,
    pitch_name,
    pitch_number,
)
from kerasmusic.data.notes import Note, Piece, Track  # noqa: E402
from kerasmusic.data.pianoroll import MultiTrackPianoRoll  # noqa: E402
from kerasmusic.data.pipeline import (  # noqa: E402
    make_note_duration_datasets,
    note_duration_dataset,
    sliding_windows,
    split_pieces,
    split_unique,
)
from kerasmusic.data.scaled_tokens import ScaledTokenEncoding  # noqa: E402
from kerasmusic.data.scores import read_score, read_scores, write_musicxml  # noqa: E402
from kerasmusic.data.shards import (  # noqa: E402
    ShardError,
    ShardReport,
    pianoroll_shard_dataset,
    read_shard_manifest,
    write_pianoroll_shards,
)
from kerasmusic.data.text import (  # noqa: E402
    CharEncoding,
    TextCorpus,
    as_text_corpus,
    chorale_lyrics,
    consecutive_batches,
    load_text_csv,
    load_texts,
    make_text_datasets,
    random_windows,
    read_label_file,
    split_corpus,
    text_dataset,
)
from kerasmusic.data.tone_pipeline import tone_dataset  # noqa: E402
from kerasmusic.data.tones import ToneEncoding  # noqa: E402
from kerasmusic.data.transforms import key_shift, normalize_key, transpose  # noqa: E402
from kerasmusic.data.vocabulary import Vocabulary  # noqa: E402
from kerasmusic.errors import (  # noqa: E402
    CorpusError,
    EmptyMidiError,
    EmptyTextError,
    EncodingError,
    FileReadError,
    KerasMusicError,
    MidiReadError,
    ModelFileError,
    NonFiniteLossError,
    NoPitchedNotesError,
    ScoreReadError,
    TextReadError,
    UnknownCharactersError,
    UnknownLabelError,
    UnknownTokenError,
    VocabularyError,
    VocabularyMismatchError,
)
from kerasmusic.generation.char_rnn import (  # noqa: E402
    generate_char_ids,
    generate_char_ids_reference,
    generate_text,
)
from kerasmusic.generation.event_lstm import (  # noqa: E402
    generate_event_ids,
    generate_event_ids_reference,
    generate_events,
)
from kerasmusic.generation.note_lstm import (  # noqa: E402
    generate,
    generate_ids,
    generate_ids_reference,
)
from kerasmusic.generation.pianoroll_rnn import (  # noqa: E402
    bernoulli_keys,
    generate_frames,
    generate_frames_reference,
    generate_pianoroll,
    sample_keys_jointly,
)
from kerasmusic.models.attention_lstm import (  # noqa: E402
    attention_model,
    attention_weights,
    check_encoding,
    create_network,
)
from kerasmusic.models.char_rnn import (  # noqa: E402
    CharRNNCore,
    TokenOneHot,
    build_char_rnn,
    build_stateful_char_rnn,
)
from kerasmusic.models.crnngan import build_discriminator, build_generator  # noqa: E402
from kerasmusic.models.crnngan_recurrent import (  # noqa: E402
    build_recurrent_discriminator,
    build_recurrent_generator,
    teacher_forced_generator,
)
from kerasmusic.models.event_lstm import MultiOneHot, SplitLast, build_event_lstm  # noqa: E402
from kerasmusic.models.joint_keys import MadeKeys, NadeKeys  # noqa: E402
from kerasmusic.models.layers import TemporalSoftmax, WeightedSum  # noqa: E402
from kerasmusic.models.musegan import (  # noqa: E402
    GENERATOR_MODES,
    TakeIndex,
    build_bar_generator,
    build_critic,
    build_generator_network,
    build_temporal_network,
)
from kerasmusic.models.pianoroll_rnn import build_pianoroll_rnn  # noqa: E402
from kerasmusic.plotting import plot_losses, plot_piano_roll, plot_roll_grid  # noqa: E402
from kerasmusic.presets import Preset, get_preset, load_preset, presets  # noqa: E402
from kerasmusic.quality import (  # noqa: E402
    QualityReport,
    StreamQuality,
    backoff_bigram_nll,
    char_rnn_quality,
    evaluate_quality,
    event_lstm_quality,
    frame_count_nll,
    ngram_nll,
    note_lstm_quality,
    pair_ngram_nll,
    pianoroll_quality,
)
from kerasmusic.sampling import Sampler, draw_uniforms, sample  # noqa: E402
from kerasmusic.saving import (  # noqa: E402
    encoding_path,
    load_encoding,
    load_model,
    quality_path,
    save_model,
)
from kerasmusic.training.char_rnn import (  # noqa: E402
    CharRNNResult,
    bigram_perplexity,
    evaluate_perplexity,
    train_char_rnn,
)
from kerasmusic.training.crnngan import (  # noqa: E402
    CRNNGAN,
    CRNNGANConfig,
    CRNNGANResult,
    feature_matching_loss,
    freeze_decision,
    train_crnngan,
)
from kerasmusic.training.event_lstm import EventLSTMResult, train_event_lstm  # noqa: E402
from kerasmusic.training.musegan import (  # noqa: E402
    MuseGAN,
    MuseGANConfig,
    MuseGANResult,
    SampleWriter,
    TensorBoardScalars,
    encode_phrases,
    gradient_penalty,
    musegan_dataset,
    train_musegan,
)
from kerasmusic.training.note_lstm import TrainResult, train_note_lstm  # noqa: E402
from kerasmusic.training.pianoroll_rnn import (  # noqa: E402
    PianoRollRNNResult,
    train_pianoroll_rnn,
)

__version__ = "0.1.0"

__all__ = [
    "as_text_corpus", "attention_model", "attention_weights", "backoff_bigram_nll",
    "bernoulli_keys", "bigram_perplexity", "build_bar_generator", "build_char_rnn", "build_critic",
    "build_discriminator", "build_event_lstm", "build_generator", "build_generator_network",
    "build_pianoroll_rnn", "build_recurrent_discriminator", "build_recurrent_generator",
    "build_stateful_char_rnn", "build_temporal_network", "char_rnn_quality", "CharEncoding",
    "CharRNNCore", "CharRNNResult", "check_encoding", "chorale_lyrics", "consecutive_batches",
    "Corpus", "CorpusError", "create_network", "CRNNGAN", "CRNNGANConfig", "CRNNGANResult",
    "DEFAULT_SHIFTS", "DEFAULT_TIME_VALUES", "draw_uniforms", "EmptyMidiError", "EmptyTextError",
    "encode_phrases", "EncodedSplit", "encoding_path", "EncodingError", "evaluate_perplexity",
    "evaluate_quality", "event_arrays_datasets", "event_dataset", "event_lstm_quality",
    "event_windows", "EventEncoding", "EventLSTMResult", "feature_matching_loss", "FileReadError",
    "frame_count_nll", "frame_dataset", "frame_windows", "FrameEncoding", "freeze_decision",
    "generate", "generate_char_ids", "generate_char_ids_reference", "generate_event_ids",
    "generate_event_ids_reference", "generate_events", "generate_frames",
    "generate_frames_reference", "generate_ids", "generate_ids_reference", "generate_pianoroll",
    "generate_text", "GENERATOR_MODES", "get_preset", "gradient_penalty", "KerasMusicError",
    "key_shift", "load_corpus", "load_encoding", "load_model", "load_preset", "load_text_csv",
    "load_texts", "MadeKeys", "make_event_datasets", "make_frame_datasets",
    "make_note_duration_datasets", "make_text_datasets", "metrics", "MidiReadError",
    "ModelFileError", "MultiOneHot", "MultiTrackPianoRoll", "MuseGAN", "musegan_dataset",
    "MuseGANConfig", "MuseGANResult", "NadeKeys", "ngram_nll", "NonFiniteLossError",
    "NoPitchedNotesError", "normalize_key", "Note", "note_duration_dataset", "note_lstm_quality",
    "NoteDurationEncoding", "pair_ngram_nll", "pianoroll_quality", "pianoroll_shard_dataset",
    "PianoRollRNNResult", "Piece", "pitch_name", "pitch_number", "pitch_range_of", "plot_losses",
    "plot_piano_roll", "plot_roll_grid", "Preset", "presets", "quality", "quality_path",
    "QualityReport", "random_phrase_transpose", "random_windows", "read_file", "read_file_pieces",
    "read_label_file", "read_midi", "read_score", "read_scores", "read_shard_manifest", "REST",
    "roll_metrics", "rolls_dataset", "sample", "sample_keys_jointly", "Sampler", "SampleWriter",
    "save_model", "ScaledTokenEncoding", "ScoreReadError", "ShardError", "ShardReport",
    "sliding_windows", "split_corpus", "split_encoded_pieces", "split_pieces", "split_unique",
    "SplitLast", "START", "StreamQuality", "TakeIndex", "teacher_forced_generator",
    "TemporalSoftmax", "TensorBoardScalars", "text_dataset", "TextCorpus", "TextReadError",
    "TokenOneHot", "tone_dataset", "ToneEncoding", "Track", "train_char_rnn", "train_crnngan",
    "train_event_lstm", "train_musegan", "train_note_lstm", "train_pianoroll_rnn", "TrainResult",
    "transpose", "transposed_copies", "UNK", "UnknownCharactersError", "UnknownLabelError",
    "UnknownTokenError", "Vocabulary", "VocabularyError", "VocabularyMismatchError", "WeightedSum",
    "write_midi", "write_musicxml", "write_pianoroll_shards",
]
