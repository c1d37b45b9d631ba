"""Malformed encoding files: an error naming the file and the field, never a raw KeyError."""

import json
import zipfile

import pytest
from builders import make_piece

import kerasmusic as km
from kerasmusic.cli import main

PIECE = make_piece([(60, 0, 1), (62, 1, 1), (64, 2, 1), (65, 3, 2), (67, 5, 1)])


def _configs():
    """A valid config of every kind of encoding, by its class."""
    return {
        km.NoteDurationEncoding: km.NoteDurationEncoding(seq_len=4).fit([PIECE]).get_config(),
        km.FrameEncoding: km.FrameEncoding().get_config(),
        km.EventEncoding: km.EventEncoding().get_config(),
        km.MultiTrackPianoRoll: km.MultiTrackPianoRoll().get_config(),
        km.CharEncoding: km.CharEncoding.fit(["abc"]).get_config(),
        km.ToneEncoding: km.ToneEncoding().fit([PIECE]).get_config(),
        km.ScaledTokenEncoding: km.ScaledTokenEncoding().fit([PIECE]).get_config(),
    }


def test_every_field_of_every_encoding_is_checked(tmp_path):
    for cls, config in _configs().items():
        assert cls.from_config(config).get_config() == config
        for field in config:
            if field == "type":
                continue
            wrong = {**config, field: {"x": 1}}  # no field of any encoding holds this
            with pytest.raises(km.EncodingFileError, match=f"field '{field}' must be"):
                cls.from_config(wrong)
            path = tmp_path / f"{cls.__name__}.{field}.json"
            path.write_text(json.dumps(wrong))
            with pytest.raises(km.EncodingFileError, match=f"{path.name}: .*'{field}'") as info:
                cls.load(path)
            assert info.value.path == str(path) and info.value.field == field
        with pytest.raises(km.EncodingFileError, match="unknown field 'extra'"):
            cls.from_config({**config, "extra": 1})
        with pytest.raises(km.EncodingFileError, match="must be a JSON object"):
            cls.from_config([config])


def test_the_issue_cases_and_values_out_of_range(tmp_path):
    config = _configs()[km.NoteDurationEncoding]
    missing = {k: v for k, v in config.items() if k != "seq_len"}
    with pytest.raises(km.EncodingFileError, match="field 'seq_len' is missing"):
        km.NoteDurationEncoding.from_config(missing)
    with pytest.raises(km.EncodingFileError, match="field 'pitch_vocabulary' must be a "
                                                   "vocabulary.*got 5"):
        km.NoteDurationEncoding.from_config({**config, "pitch_vocabulary": 5})
    duplicated = {**config["pitch_vocabulary"], "tokens": ["a", "a"]}
    with pytest.raises(km.EncodingFileError, match="duplicate tokens"):
        km.NoteDurationEncoding.from_config({**config, "pitch_vocabulary": duplicated})
    with pytest.raises(km.EncodingFileError, match="MIDI range"):
        km.FrameEncoding.from_config({**km.FrameEncoding().get_config(), "n_pitches": 0})
    with pytest.raises(km.EncodingFileError, match="'step' must be"):
        km.FrameEncoding.from_config({**km.FrameEncoding().get_config(), "step": "1e999999"})
    (tmp_path / "e.json").write_text("{truncated")
    with pytest.raises(km.VocabularyError, match="e.json: not a readable encoding file"):
        km.NoteDurationEncoding.load(tmp_path / "e.json")


def _saved_model(tmp_path, encoding=True):
    """A tiny piano-roll RNN saved with (or without) its 12-key frame encoding."""
    model = km.build_pianoroll_rnn(12, units=2, n_layers=1)
    model.optimizer.build(model.trainable_variables)  # saved whole: no warning on loading
    path = tmp_path / "m.keras"
    km.save_model(model, path, km.FrameEncoding(lowest_pitch=60, n_pitches=12)
                  if encoding else None)
    return path


def test_generate_reports_a_broken_encoding_in_one_line(tmp_path, capsys):
    path = _saved_model(tmp_path)
    beside = km.encoding_path(path)
    config = json.loads(beside.read_text())
    del config["n_pitches"]
    beside.write_text(json.dumps(config))
    with pytest.raises(km.EncodingFileError, match=f"{beside}: .*'n_pitches' is missing"):
        km.load_model(path)
    assert main(["generate", "--model", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()] and "Traceback" not in err
    assert str(beside) in err and "'n_pitches'" in err


def test_the_copy_inside_the_model_is_checked_too(tmp_path):
    path = _saved_model(tmp_path)
    km.encoding_path(path).unlink()
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(entries["kerasmusic_encoding.json"])
    entries["kerasmusic_encoding.json"] = json.dumps({**config, "tracks": "all"})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(km.EncodingFileError,
                       match=r"m\.keras \(the encoding stored inside it\): .*'tracks'"):
        km.load_encoding(path)


def test_a_shape_mismatch_names_the_files(tmp_path):
    path = _saved_model(tmp_path, encoding=False)
    km.FrameEncoding(n_pitches=24).save(km.encoding_path(path))
    with pytest.raises(km.VocabularyMismatchError, match=f"{path} with the encoding in "
                                                         f"{km.encoding_path(path)}"):
        km.load_model(path)


def test_a_truncated_model_file_is_not_reported_as_missing(tmp_path):
    path = _saved_model(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(km.ModelFileError, match="truncated") as info:
        km.load_model(path)
    assert "not found" not in str(info.value).lower()
