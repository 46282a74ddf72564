"""fit/evaluate bad input: each a clear error naming the argument and the value."""
import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import Callback
from kerosene.layers import Dense
from kerosene.models import Sequential
from fit_helpers import small_model  # tests/engine/fit_helpers.py


def test_length_mismatch(blobs):
    x, y, _ = blobs
    with pytest.raises(ValueError, match="x has 300 samples|y has 200 samples"):
        small_model().fit(x, y[:200], verbose=0)


def test_wrong_feature_dimension(blobs):
    x, y, _ = blobs
    with pytest.raises(ValueError, match=r"expected shape \(None, 20\).*\(300, 7\)"):
        small_model().fit(x[:, :7], y, verbose=0)


def test_fit_before_compile(blobs):
    x, y, _ = blobs
    model = Sequential([Dense(3, input_dim=20)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y)
    with pytest.raises(RuntimeError, match="compile"):
        model.evaluate(x, y)


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5, "a"])
def test_bad_validation_split(blobs, split):
    x, y, _ = blobs
    with pytest.raises(ValueError, match="validation_split"):
        small_model().fit(x, y, validation_split=split, verbose=0)


def test_validation_split_with_generator_or_loader(blobs):
    x, y, _ = blobs
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))
    with pytest.raises(ValueError, match="validation_split.*DataLoader"):
        small_model().fit(loader, validation_split=0.2, verbose=0)

    def gen():
        yield x, y
    with pytest.raises(ValueError, match="validation_split.*generator"):
        small_model().fit(gen(), validation_split=0.2, verbose=0)


@pytest.mark.parametrize("bs", [0, -3, 2.5])
def test_bad_batch_size(blobs, bs):
    x, y, _ = blobs
    with pytest.raises(ValueError, match="batch_size"):
        small_model().fit(x, y, batch_size=bs, verbose=0)


def test_class_weight_unknown_class(blobs):
    x, y, _ = blobs
    with pytest.raises(ValueError, match=r"class_weight.*\[5\].*3 classes"):
        small_model().fit(x, y, class_weight={0: 1.0, 5: 2.0}, verbose=0)


def test_unknown_names_list_accepted(blobs):
    with pytest.raises(ValueError, match="rmsprop"):
        small_model(optimizer="adamm")
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        small_model(loss="categorical_crossentropyy")
    x, y, _ = blobs
    with pytest.raises(ValueError, match="accuracy"):
        small_model(metrics=["accuracyy"]).fit(x, y, verbose=0)


def test_unknown_fit_kwarg(blobs):
    x, y, _ = blobs
    with pytest.raises(TypeError, match="epochz"):
        small_model().fit(x, y, epochz=3)


def test_bad_callback_type(blobs):
    x, y, _ = blobs
    with pytest.raises(TypeError, match="Callback"):
        small_model().fit(x, y, callbacks=[object()], verbose=0)


def test_bad_verbose(blobs):
    x, y, _ = blobs
    with pytest.raises(ValueError, match="verbose"):
        small_model().fit(x, y, verbose=5)


def test_bad_device():
    with pytest.raises(ValueError, match="device"):
        small_model().compile(optimizer="sgd", loss="mse", device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            small_model().compile(optimizer="sgd", loss="mse", device="cuda")


def test_evaluate_without_targets_on_a_compiled_model_is_a_clear_error():
    model = kerosene.Sequential([kerosene.layers.Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.ones((6, 3), dtype="float32")
    with pytest.raises(ValueError, match=r"evaluate\(\) needs targets: `y` is None.*predict\(x\)"):
        model.evaluate(x, verbose=0)

    def inputs_only():
        while True:
            yield x
    with pytest.raises(ValueError, match="evaluate\\(\\) needs targets"):
        model.evaluate(inputs_only(), steps=2, verbose=0)
    assert len(model.evaluate(x, np.zeros((6, 1), dtype="float32"), verbose=0)) == 2
