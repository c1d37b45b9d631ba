"""The package namespace: loaded on first use, the same names as when it imported everything."""

import subprocess
import sys
import textwrap
import types

from builders import HANG_LIMIT

import kerasmusic as km

# Every name ``kerasmusic/__init__.py`` exported when it imported all its modules eagerly.
EAGER_API = [
    "as_text_corpus", "attention_model", "attention_weights", "backoff_bigram_nll",
    "bernoulli_keys", "bigram_perplexity", "build_bar_generator", "build_char_rnn",
    "build_critic", "build_discriminator", "build_event_lstm", "build_generator",
    "build_generator_network", "build_pianoroll_rnn", "build_recurrent_discriminator",
    "build_recurrent_generator", "build_stateful_char_rnn", "build_temporal_network",
    "char_rnn_quality", "CharEncoding", "CharRNNCore", "CharRNNResult", "check_encoding",
    "chorale_lyrics", "consecutive_batches", "Corpus", "CorpusError", "create_network",
    "CRNNGAN", "CRNNGANConfig", "CRNNGANResult", "DEFAULT_SHIFTS", "DEFAULT_TIME_VALUES",
    "draw_uniforms", "EmptyMidiError", "EmptyTextError", "encode_phrases", "EncodedSplit",
    "encoding_path", "EncodingError", "evaluate_perplexity", "evaluate_quality",
    "event_arrays_datasets", "event_dataset", "event_lstm_quality", "event_windows",
    "EventEncoding", "EventLSTMResult", "feature_matching_loss", "FileReadError",
    "frame_count_nll", "frame_dataset", "frame_windows", "FrameEncoding", "freeze_decision",
    "generate", "generate_char_ids", "generate_char_ids_reference", "generate_event_ids",
    "generate_event_ids_reference", "generate_events", "generate_frames",
    "generate_frames_reference", "generate_ids", "generate_ids_reference",
    "generate_pianoroll", "generate_text", "GENERATOR_MODES", "get_preset", "gradient_penalty",
    "KerasMusicError", "key_shift", "load_corpus", "load_encoding", "load_model",
    "load_preset", "load_text_csv", "load_texts", "MadeKeys", "make_event_datasets",
    "make_frame_datasets", "make_note_duration_datasets", "make_text_datasets", "metrics",
    "MidiReadError", "ModelFileError", "MultiOneHot", "MultiTrackPianoRoll", "MuseGAN",
    "musegan_dataset", "MuseGANConfig", "MuseGANResult", "NadeKeys", "ngram_nll",
    "NonFiniteLossError", "NoPitchedNotesError", "normalize_key", "Note",
    "note_duration_dataset", "note_lstm_quality", "NoteDurationEncoding", "pair_ngram_nll",
    "pianoroll_quality", "pianoroll_shard_dataset", "PianoRollRNNResult", "Piece",
    "pitch_name", "pitch_number", "pitch_range_of", "plot_losses", "plot_piano_roll",
    "plot_roll_grid", "Preset", "presets", "quality", "quality_path", "QualityReport",
    "random_phrase_transpose", "random_windows", "read_file", "read_file_pieces",
    "read_label_file", "read_midi", "read_score", "read_scores", "read_shard_manifest", "REST",
    "roll_metrics", "rolls_dataset", "sample", "sample_keys_jointly", "Sampler",
    "SampleWriter", "save_model", "ScaledTokenEncoding", "ScoreReadError", "ShardError",
    "ShardReport", "sliding_windows", "split_corpus", "split_encoded_pieces", "split_pieces",
    "split_unique", "SplitLast", "START", "StreamQuality", "TakeIndex",
    "teacher_forced_generator", "TemporalSoftmax", "TensorBoardScalars", "text_dataset",
    "TextCorpus", "TextReadError", "TokenOneHot", "tone_dataset", "ToneEncoding", "Track",
    "train_char_rnn", "train_crnngan", "train_event_lstm", "train_musegan", "train_note_lstm",
    "train_pianoroll_rnn", "TrainResult", "transpose", "transposed_copies", "UNK",
    "UnknownCharactersError", "UnknownLabelError", "UnknownTokenError", "Vocabulary",
    "VocabularyError", "VocabularyMismatchError", "WeightedSum", "write_midi",
    "write_musicxml", "write_pianoroll_shards"
]
SUBMODULES = {"metrics", "quality", "roll_metrics"}


def test_every_name_of_the_eager_api_resolves():
    assert set(EAGER_API) <= set(km.__all__) <= set(dir(km))
    for name in EAGER_API:
        value = getattr(km, name)
        assert isinstance(value, types.ModuleType) == (name in SUBMODULES), name
    from kerasmusic import NoteDurationEncoding
    from kerasmusic.data.note_tokens import NoteDurationEncoding as defined

    assert NoteDurationEncoding is defined and km.quality.QualityReport is km.QualityReport


def test_presets_stays_the_function_beside_its_module():
    from kerasmusic.presets import presets

    assert km.presets is presets is sys.modules["kerasmusic.presets"].presets


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=HANG_LIMIT)


def test_import_is_light_and_a_saved_model_loads_in_a_fresh_process(tmp_path):
    model = km.create_network(6, 4, embed_size=3, rnn_units=4)  # registered layers inside
    path = tmp_path / "m.keras"
    km.save_model(model, path)
    run = _fresh_python(f"""
        import sys
        import kerasmusic as km
        heavy = [m for m in ("tensorflow", "keras", "music21", "matplotlib") if m in sys.modules]
        assert not heavy, heavy
        model = km.load_model({str(path)!r})  # safe_mode=True: the layers must be registered
        print(model.name, km.__version__)
    """)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["attention_lstm", km.__version__]
