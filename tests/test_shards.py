import json
from fractions import Fraction

import numpy as np
import pytest
import tensorflow as tf

from kerasmusic.data import shards as shards_module
from kerasmusic.data.corpus import SkippedFileWarning
from kerasmusic.data.midi import read_midi, write_midi
from kerasmusic.data.notes import Note, Piece, Track
from kerasmusic.data.pianoroll import MultiTrackPianoRoll
from kerasmusic.data.shards import (
    ShardError,
    pianoroll_shard_dataset,
    read_shard_manifest,
    write_pianoroll_shards,
)
from kerasmusic.errors import KerasMusicError, MidiReadError
from kerasmusic.training.musegan import MuseGAN, MuseGANConfig

ENCODING = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=4, n_pitches=24,
                               lowest_pitch=48)
SHAPE = ENCODING.shape


def _random_track(rng, quarters: int, program: int) -> Track:
    notes = []
    for _ in range(rng.integers(6, 14)):
        start = Fraction(int(rng.integers(0, 4 * quarters)), 4)
        duration = Fraction(int(rng.integers(1, 6)), 4)
        notes.append(Note(start, duration, int(rng.integers(44, 76)), 80))  # some out of range
    return Track(notes, program=program)


@pytest.fixture(scope="module")
def midi_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("midi")
    (folder / "sub").mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        piece = Piece([_random_track(rng, 10, 0), _random_track(rng, 10, 33)])
        write_midi(piece, folder / ("sub" if i == 4 else ".") / f"piece{i}.mid")
    write_midi(Piece([_random_track(rng, 10, 0)]), folder / "one_track.mid")  # no track 1
    (folder / "broken.mid").write_bytes(b"MThd garbage")
    (folder / "notes.txt").write_text("not music")
    return folder


def _good_files(midi_dir) -> list[str]:
    return sorted(str(p) for p in midi_dir.rglob("*.mid")
                  if p.name not in ("broken.mid", "one_track.mid"))


def _expected(midi_dir) -> np.ndarray:
    return np.concatenate([ENCODING.phrases(read_midi(f)) for f in _good_files(midi_dir)])


@pytest.fixture(scope="module")
def shard_dir(midi_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    with pytest.warns(SkippedFileWarning, match="broken.mid"):
        report = write_pianoroll_shards(midi_dir, out, ENCODING, examples_per_shard=7,
                                        workers=2, progress=False)
    return out, report


def _read_shard_raw(path) -> np.ndarray:
    """A shard's phrases, decoded with numpy (independent of the tf.data reader)."""
    out = []
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        example = tf.train.Example.FromString(record)
        assert list(example.features.feature["shape"].int64_list.value) == list(SHAPE)
        packed = np.frombuffer(example.features.feature["roll"].bytes_list.value[0], np.uint8)
        bits = np.unpackbits(packed)[:np.prod(SHAPE)].reshape(SHAPE)
        out.append(np.where(bits, 1.0, -1.0).astype(np.float32))
    return np.stack(out)


def _sorted_rows(phrases: np.ndarray) -> np.ndarray:
    flat = phrases.reshape(len(phrases), -1)
    return flat[np.lexsort(flat.T[::-1])]


def test_shards_hold_exactly_the_phrases_of_every_good_file(midi_dir, shard_dir):
    out, report = shard_dir
    expected = _expected(midi_dir)
    assert len(report.shards) == -(-len(expected) // 7) >= 3
    assert report.examples_per_shard[:-1] == [7] * (len(report.shards) - 1)
    assert report.n_examples == len(expected)
    # Shards in listing order: the records follow the files' order exactly.
    written = np.concatenate([_read_shard_raw(p) for p in report.shards])
    np.testing.assert_array_equal(written, expected)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["encoding"] == ENCODING.get_config()
    assert manifest["shape"] == list(SHAPE)
    assert [s["file"] for s in manifest["shards"]] == [
        f"phrases-{k:05d}-of-{len(report.shards):05d}.tfrecord"
        for k in range(len(report.shards))]
    assert [s["examples"] for s in manifest["shards"]] == report.examples_per_shard
    assert manifest["files"] == 8 and manifest["files_read"] == 7 == report.files_read
    assert manifest["files_without_phrases"] == 1 == report.files_without_phrases
    assert len(manifest["bad_files"]) == 1 and manifest["bad_files"][0]["path"].endswith(
        "broken.mid")
    assert manifest["bad_files"][0]["error"] == "MidiReadError"
    assert len(report.errors) == 1 and isinstance(report.errors[0], MidiReadError)


def test_shards_do_not_depend_on_the_number_of_workers(midi_dir, shard_dir, tmp_path):
    _, report = shard_dir
    with pytest.warns(SkippedFileWarning):
        again = write_pianoroll_shards(midi_dir, tmp_path, ENCODING, examples_per_shard=7,
                                       workers=1, progress=False)
    assert [open(a, "rb").read() for a in again.shards] == [
        open(b, "rb").read() for b in report.shards]


def test_dataset_gives_full_batches_and_one_pass_covers_every_phrase_once(midi_dir, shard_dir):
    out, report = shard_dir
    expected = _expected(midi_dir)
    ds = pianoroll_shard_dataset(out, 1, shuffle_buffer=100, seed=3)
    assert ds.element_spec == tf.TensorSpec((1, *SHAPE), tf.float32)
    one_by_one = np.concatenate(list(ds.as_numpy_iterator()))
    np.testing.assert_array_equal(_sorted_rows(one_by_one), _sorted_rows(expected))
    assert not np.array_equal(one_by_one, expected)  # shuffled

    batches = list(pianoroll_shard_dataset(out / "manifest.json", 4, seed=3)
                   .as_numpy_iterator())
    assert len(batches) == len(expected) // 4
    assert all(b.shape == (4, *SHAPE) and b.dtype == np.float32 for b in batches)
    assert set(np.unique(np.concatenate(batches))) == {-1.0, 1.0}
    # Same seed, same order; another seed, another order.
    again = list(pianoroll_shard_dataset(out, 4, seed=3).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate(again), np.concatenate(batches))
    other = list(pianoroll_shard_dataset(out, 4, seed=4).as_numpy_iterator())
    assert not np.array_equal(np.concatenate(other), np.concatenate(batches))


def test_two_input_pipelines_read_disjoint_shards(shard_dir):
    out, report = shard_dir
    per_pipeline = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                             num_replicas_in_sync=2)
        ds = pianoroll_shard_dataset(out, 2, input_context=context)  # global 2: 1 per replica
        per_pipeline.append(np.concatenate(list(ds.as_numpy_iterator())))
        own = np.concatenate([_read_shard_raw(p) for p in report.shards[pipeline::2]])
        np.testing.assert_array_equal(_sorted_rows(per_pipeline[-1]), _sorted_rows(own))
    assert len(per_pipeline[0]) + len(per_pipeline[1]) == report.n_examples
    everything = np.concatenate([_read_shard_raw(p) for p in report.shards])
    np.testing.assert_array_equal(_sorted_rows(np.concatenate(per_pipeline)),
                                  _sorted_rows(everything))
    too_many = tf.distribute.InputContext(num_input_pipelines=len(report.shards) + 1,
                                          input_pipeline_id=0)
    with pytest.raises(ShardError, match="input pipelines"):
        pianoroll_shard_dataset(out, 4, input_context=too_many)


def test_missing_or_foreign_manifest_is_a_clear_error(shard_dir, tmp_path):
    with pytest.raises(ShardError, match="no shard manifest"):
        pianoroll_shard_dataset(tmp_path, 4)
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "something else"}))
    with pytest.raises(KerasMusicError, match="not a kerasmusic shard manifest"):
        pianoroll_shard_dataset(tmp_path, 4)
    out, _ = shard_dir
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"].append({"file": "phrases-00099-of-00100.tfrecord", "examples": 1})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ShardError, match="missing"):
        read_shard_manifest(tmp_path / "manifest.json")


def test_interrupted_write_leaves_no_shard_and_temp_files_are_never_shards(midi_dir, tmp_path,
                                                                          monkeypatch):
    files = _good_files(midi_dir)
    out = tmp_path / "out"
    write_pianoroll_shards(files[:2], out, ENCODING, examples_per_shard=5, workers=1,
                           progress=False)
    assert (out / "manifest.json").is_file()
    real_encode, calls = shards_module._encode_file, []

    def crash_on_fourth(path, encoding):
        calls.append(path)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_encode(path, encoding)

    monkeypatch.setattr(shards_module, "_encode_file", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        write_pianoroll_shards(files, out, ENCODING, examples_per_shard=5, workers=1,
                               progress=False)
    assert len(calls) == 4
    # The earlier run's manifest is gone (its shards may have been replaced) and
    # nothing of the interrupted run is left: the folder reads as unfinished.
    assert not (out / "manifest.json").exists()
    assert not list(out.glob("*.tmp"))
    with pytest.raises(ShardError, match="no shard manifest"):
        pianoroll_shard_dataset(out, 1)
    monkeypatch.undo()

    # A temp file a killed process left behind, and a shard of an old run with another count.
    (out / "phrases-00000.tfrecord.tmp").write_bytes(b"half a shard")
    (out / "phrases-00005-of-00009.tfrecord").write_bytes(b"old")
    report = write_pianoroll_shards(files, out, ENCODING, examples_per_shard=5, workers=1,
                                    progress=False)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([p.split("/")[-1] for p in report.shards] + ["manifest.json"])
    assert sum(1 for _ in pianoroll_shard_dataset(out, 1).unbatch()) == report.n_examples


def test_no_midi_file_or_no_phrase_is_an_error(midi_dir, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(KerasMusicError):
        write_pianoroll_shards(tmp_path, tmp_path / "out", ENCODING, progress=False)
    needs_track_5 = MultiTrackPianoRoll(tracks=[5], n_bars=2, n_steps_per_bar=4, n_pitches=24,
                                        lowest_pitch=48)
    with pytest.raises(ShardError, match="gave a phrase"):
        write_pianoroll_shards(_good_files(midi_dir)[:2], tmp_path / "out", needs_track_5,
                               workers=1, progress=False)


def test_musegan_fits_one_epoch_on_the_shards(shard_dir):
    out, report = shard_dir
    config = MuseGANConfig(z_dim=4, n_tracks=2, n_bars=2, n_steps_per_bar=4, n_pitches=24,
                           critic_steps=2)
    gan = MuseGAN(config, seed=0)
    history = gan.fit(pianoroll_shard_dataset(out, 4), epochs=1, verbose=False)
    assert int(gan.critic_step_count.numpy()) == report.n_examples // 4
    assert int(gan.step.numpy()) == report.n_examples // 4 // 2
    assert all(np.isfinite(v[0]) for v in history.values())


def test_train_musegan_streams_the_shards_with_their_encoding(shard_dir):
    import kerasmusic as km

    out, report = shard_dir
    config = MuseGANConfig(z_dim=4, critic_steps=2)
    result = km.train_musegan(str(out), epochs=1, batch_size=4, config=config, verbose=False)
    assert result.encoding.get_config() == ENCODING.get_config() and result.phrases is None
    assert int(result.gan.critic_step_count.numpy()) == report.n_examples // 4
    assert result.gan.generate(1).shape == (1, *SHAPE)
    other = MultiTrackPianoRoll(tracks=[0, 1], n_bars=2, n_steps_per_bar=4, n_pitches=12,
                                lowest_pitch=48)
    with pytest.raises(ShardError, match="another encoding"):
        km.train_musegan(out, other, epochs=1, batch_size=4, config=config, verbose=False)
    with pytest.raises(ShardError, match="fewer than one batch"):
        km.train_musegan(out, epochs=1, batch_size=10_000, config=config, verbose=False)


class _TwoWorkers:
    """Stands in for a two-worker MultiWorkerMirroredStrategy (only its cluster is read)."""

    class cluster_resolver:  # noqa: N801
        @staticmethod
        def cluster_spec():
            return tf.train.ClusterSpec({"worker": ["localhost:1", "localhost:2"]})


def test_several_workers_on_shards_need_a_fixed_epoch_length(shard_dir):
    import kerasmusic as km

    out, _ = shard_dir
    with pytest.raises(ShardError, match="2 workers from shards needs steps_per_epoch"):
        km.train_musegan(out, batch_size=4, strategy=_TwoWorkers(), verbose=False)


def test_a_dead_worker_costs_at_most_the_file_it_was_reading(midi_dir, monkeypatch):
    files = _good_files(midi_dir) * 3
    started = []
    real_init = shards_module._Worker.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(shards_module._Worker, "__init__", recording_init)
    results = shards_module._encode_all(files, ENCODING, workers=2, window=4)
    got = [next(results)]
    started[0].proc.kill()
    got += list(results)
    assert len(got) == len(files) and len(started) >= 3  # a replacement was started
    died = [r for r in got if isinstance(r, KerasMusicError)]
    assert len(died) <= 1 and all("process died" in str(e) for e in died)
    for path, result in zip(files, got):
        if not isinstance(result, KerasMusicError):
            np.testing.assert_array_equal(result, shards_module._encode_file(path, ENCODING))


@pytest.mark.parametrize("encoding", [ENCODING, MultiTrackPianoRoll(
    tracks=[1, 0], n_bars=3, n_steps_per_bar=4, n_pitches=24, lowest_pitch=48, hop_bars=2)])
def test_packed_phrases_are_the_phrases_bits(midi_dir, encoding):
    """The shard workers pack the boolean roll's windows: the bits of phrases()."""
    for path in _good_files(midi_dir):
        piece = read_midi(path)
        phrases = encoding.phrases(piece)
        want = np.packbits(phrases.reshape(len(phrases), -1) > 0, axis=1)
        np.testing.assert_array_equal(shards_module._packed_phrases(encoding, piece), want)
    short = Piece([Track([Note(Fraction(0), Fraction(1), 60)]),
                   Track([Note(Fraction(0), Fraction(1), 50)])])
    long = MultiTrackPianoRoll(tracks=[0, 1], n_bars=8)  # longer than the piece
    assert shards_module._packed_phrases(long, short).shape == (
        0, -(-int(np.prod(long.shape)) // 8))


def test_records_are_what_tensorflow_serializes():
    prefix, suffix = shards_module._example_parts(SHAPE, 24)
    for row in (bytes(24), bytes(range(24)), b"\xff" * 24):
        record = prefix + row + suffix
        assert record == shards_module._example(row, SHAPE)
        parsed = tf.train.Example.FromString(record).features.feature
        assert parsed["roll"].bytes_list.value == [row]
        assert list(parsed["shape"].int64_list.value) == list(SHAPE)
