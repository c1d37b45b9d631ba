import numpy as np
import pytest

import kerasmusic as km


def test_seed_parameter_counts():
    assert km.build_generator(1000, (100, 1)).count_params() == 1_022_820
    assert km.build_discriminator((100, 1)).count_params() == 5_907_457


def test_shapes_and_ranges():
    gen = km.build_generator(8, (12, 1))
    out = gen.predict(np.random.default_rng(0).normal(size=(3, 8)), verbose=0)
    assert out.shape == (3, 12, 1) and np.abs(out).max() <= 1
    disc = km.build_discriminator((12, 1))
    p = disc.predict(out, verbose=0)
    assert p.shape == (3, 1) and ((p > 0) & (p < 1)).all()


def test_builders_round_trip_through_keras_and_h5(tmp_path):
    gen = km.build_generator(8, (6, 2))
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    for name in ("g.keras", "g.h5"):
        gen.save(tmp_path / name)
        back = km.load_model(tmp_path / name, compile=False)
        np.testing.assert_array_equal(back.predict(z, verbose=0), gen.predict(z, verbose=0))


def test_bad_shapes():
    with pytest.raises(km.KerasMusicError, match="seq_shape"):
        km.build_discriminator((100,))
    with pytest.raises(km.KerasMusicError, match="latent_dim"):
        km.build_generator(0, (4, 1))
