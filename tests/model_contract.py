"""What every model family of the library promises, as one test base to mix in.

A family's test module declares a subclass named ``Test...``::

    class TestMyFamilyContract(ModelContract):
        def build(self):                  # a tiny untrained model of the family
            return km.build_my_model(...)
        def inputs(self, batch, seed):    # a list of input arrays for ``batch`` rows
            ...
        def targets(self, batch, seed):   # a list of target arrays (one per output)
            ...
        def generate(self, model, seed):  # optional: the family's sampler, as an array
            ...

and inherits the tests below: the outputs are per-step distributions of the declared
shapes, the config round trip, ``.keras`` / ``.h5`` with ``safe_mode=True`` and a
SavedModel served without kerasmusic, one training step under ``MirroredStrategy`` on two
logical CPUs equal to one device, and (when ``generate`` is given) seeded generation
that repeats itself and stays in the vocabulary.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from builders import run_on_two_cpus, serve_savedmodel

import kerasmusic as km

# Runs in a fresh Python with two logical CPUs: the saved model, loaded under each
# strategy, takes the same SGD steps on the saved batch; the weights must agree.
_DISTRIBUTED_STEP = """
import numpy as np, tensorflow as tf, keras
import kerasmusic as km
data = np.load(DATA)
inputs = [data[f"x{i}"] for i in range(N_IN)]
targets = [data[f"y{i}"] for i in range(N_OUT)]

def train(strategy):
    with strategy.scope():
        model = km.load_model(MODEL)
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=[keras.losses.SparseCategoricalCrossentropy()] * N_OUT)
    for _ in range(3):
        model.train_on_batch(inputs, targets)
    return model.get_weights()

one = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
two = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
for a, b in zip(one, two, strict=True):
    np.testing.assert_allclose(a, b, atol=1e-5)
print("DISTRIBUTED EQUAL")
"""


class ModelContract:
    """Base of the contract tests; subclasses supply ``build``, ``inputs``, ``targets``."""

    #: Rows in the probe batch (even: it is split over two replicas).
    batch = 4

    def build(self) -> keras.Model:
        raise NotImplementedError

    def inputs(self, batch: int, seed: int) -> list[np.ndarray]:
        raise NotImplementedError

    def targets(self, batch: int, seed: int) -> list[np.ndarray]:
        raise NotImplementedError

    def generate(self, model: keras.Model, seed: int) -> np.ndarray | None:
        """Generated token ids, or None when the family has no token sampler."""
        return None

    @pytest.fixture(scope="class")
    def contract_model(self):
        keras.utils.set_random_seed(0)
        model = self.build()
        model.compile(optimizer=keras.optimizers.SGD(0.05),
                      loss=[keras.losses.SparseCategoricalCrossentropy()] * len(model.outputs))
        model.fit(self.inputs(8, 1), self.targets(8, 2), epochs=1, batch_size=4, verbose=0)
        return model

    def _outputs(self, model, inputs) -> list[np.ndarray]:
        out = model.predict(inputs, verbose=0)
        return [np.asarray(o) for o in (out if isinstance(out, list | tuple) else [out])]

    def test_contract_outputs_are_distributions_over_each_vocabulary(self, contract_model):
        probe = self.inputs(self.batch, 3)
        targets = self.targets(self.batch, 4)
        outputs = self._outputs(contract_model, probe)
        assert len(outputs) == len(targets)
        for out, target in zip(outputs, targets, strict=True):
            assert out.shape[:-1] == target.shape
            assert out.dtype == np.float32
            np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)

    def test_contract_config_round_trip_gives_the_same_model(self, contract_model):
        rebuilt = keras.Model.from_config(contract_model.get_config())
        rebuilt.set_weights(contract_model.get_weights())
        probe = self.inputs(self.batch, 5)
        for a, b in zip(self._outputs(contract_model, probe), self._outputs(rebuilt, probe),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize("name", ["m.keras", "m.h5", "savedmodel"])
    def test_contract_saves_and_loads(self, tmp_path, contract_model, name):
        path = tmp_path / name
        km.save_model(contract_model, path)
        probe = self.inputs(self.batch, 6)
        want = self._outputs(contract_model, probe)
        if name == "savedmodel":
            got = serve_savedmodel(path, probe)
        else:
            loaded = km.load_model(path)  # safe_mode=True inside
            got = self._outputs(loaded, probe)
            assert [type(layer).__name__ for layer in loaded.layers] == \
                [type(layer).__name__ for layer in contract_model.layers]
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    def test_contract_distributed_step_equals_one_device(self, tmp_path, contract_model):
        km.save_model(contract_model, tmp_path / "m.keras")
        inputs, targets = self.inputs(self.batch, 7), self.targets(self.batch, 8)
        np.savez(tmp_path / "batch.npz", **{f"x{i}": x for i, x in enumerate(inputs)},
                 **{f"y{i}": y for i, y in enumerate(targets)})
        script = (_DISTRIBUTED_STEP.replace("DATA", repr(str(tmp_path / "batch.npz")))
                  .replace("MODEL", repr(str(tmp_path / "m.keras")))
                  .replace("N_IN", str(len(inputs))).replace("N_OUT", str(len(targets))))
        assert "DISTRIBUTED EQUAL" in run_on_two_cpus(script)

    def test_contract_generation_repeats_with_its_seed(self, contract_model):
        first = self.generate(contract_model, 11)
        if first is None:
            pytest.skip("this family has no token sampler")
        np.testing.assert_array_equal(first, self.generate(contract_model, 11))
        vocab = contract_model.outputs[0].shape[-1]
        assert first.size and 0 <= first.min() and first.max() < vocab
