import numpy as np
import pytest

from kerasmusic.errors import KerasMusicError
from kerasmusic.sampling import Sampler, draw_uniforms, sample

PROBS = np.array([[0.05, 0.5, 0.3, 0.1, 0.05]], "float32")


def test_temperature_zero_is_argmax():
    u = draw_uniforms(0, (1,))
    assert int(sample(PROBS, u, temperature=0)[0]) == 1
    assert int(sample(PROBS, u, temperature=1e-4)[0]) == 1


def test_frequencies_follow_the_distribution():
    n = 20_000
    probs = np.repeat(PROBS, n, axis=0)
    tokens = sample(probs, draw_uniforms(1, (n,))).numpy()
    freq = np.bincount(tokens, minlength=5) / n
    np.testing.assert_allclose(freq, PROBS[0], atol=0.015)


def test_top_k_and_top_p_never_leave_their_set():
    n = 5000
    probs = np.repeat(PROBS, n, axis=0)
    top2 = sample(probs, draw_uniforms(2, (n,)), top_k=2).numpy()
    assert set(np.unique(top2)) == {1, 2}
    nucleus = sample(probs, draw_uniforms(3, (n,)), top_p=0.75).numpy()
    assert set(np.unique(nucleus)) == {1, 2}  # 0.5 + 0.3 >= 0.75


def test_same_seed_same_tokens():
    probs = np.repeat(PROBS, 50, axis=0)
    a = Sampler(0.8)(probs, draw_uniforms(7, (50,))).numpy()
    b = Sampler(0.8)(probs, draw_uniforms(7, (50,))).numpy()
    c = Sampler(0.8)(probs, draw_uniforms(8, (50,))).numpy()
    assert (a == b).all() and not (a == c).all()


def test_bad_settings_raise():
    with pytest.raises(KerasMusicError):
        Sampler(-1)
    with pytest.raises(KerasMusicError):
        Sampler(1, top_p=0)
    with pytest.raises(KerasMusicError):
        Sampler(1, top_k=0)


def test_gumbel_max_has_the_softmax_distribution():
    """Chi-square test of Gumbel-max frequencies against softmax(log p / T)."""
    n = 20_000
    sampler = Sampler(0.7, method="gumbel")
    assert sampler.draw_shape(5) == (5,) and Sampler(0.7).draw_shape(5) == ()
    probs = np.repeat(PROBS, n, axis=0)
    tokens = sampler(probs, draw_uniforms(4, (n, 5))).numpy()
    expected = PROBS[0] ** (1 / 0.7)
    expected = expected / expected.sum() * n
    observed = np.bincount(tokens, minlength=5)
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < 18.47  # 99.9% quantile of chi-square with 4 degrees of freedom
    # ... and inverse-CDF sampling passes the same test.
    cdf = Sampler(0.7)(probs, draw_uniforms(4, (n,))).numpy()
    assert ((np.bincount(cdf, minlength=5) - expected) ** 2 / expected).sum() < 18.47


def test_gumbel_respects_top_k_and_greedy():
    n = 3000
    probs = np.repeat(PROBS, n, axis=0)
    top2 = Sampler(1.0, top_k=2, method="gumbel")(probs, draw_uniforms(5, (n, 5))).numpy()
    assert set(np.unique(top2)) == {1, 2}
    greedy = Sampler.greedy()(probs, draw_uniforms(6, (n,))).numpy()
    assert (greedy == 1).all()
    with pytest.raises(KerasMusicError):
        Sampler(1, method="beam")
