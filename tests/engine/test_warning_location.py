"""Engine (and saving) warnings point at the user's line (this file), not at the kerosene frame that noticed."""
import warnings

import numpy as np
import pytest

from kerosene.layers import Activation, Dense, Input
from kerosene.models import Model, Sequential

X = np.random.RandomState(0).rand(8, 4).astype("float32")
Y = np.random.RandomState(1).rand(8, 1).astype("float32")


def two_outputs():
    a = Input((4,), name="a")
    m = Model(a, [Dense(1, name="o1")(a), Dense(1, name="o2")(a)])
    m.compile("sgd", "mse")
    return m


def no_weights():
    m = Sequential([Activation("relu", input_shape=(4,))])
    m.compile("sgd", "mse")
    return m


def fsdp_alone():
    m = Sequential([Dense(1, input_shape=(4,))])
    m.compile("sgd", "mse", distribute="fsdp")
    return m


def batches():
    while True:
        yield X, Y


def skip_mismatch(tmp_path):
    small = Sequential([Dense(2, input_shape=(4,), name="d")])
    small.save_weights(str(tmp_path / "w.h5"))
    big = Sequential([Dense(3, input_shape=(4,), name="d")])
    big.load_weights(str(tmp_path / "w.h5"), by_name=True, skip_mismatch=True)


def skip_mismatch_pt(tmp_path):
    small = Sequential([Dense(2, input_shape=(4,), name="d")])
    small.save_weights(str(tmp_path / "w.pt"))
    big = Sequential([Dense(3, input_shape=(4,), name="d")])
    big.load_weights(str(tmp_path / "w.pt"), skip_mismatch=True)


def save_with_a_lambda_loss(tmp_path):
    m = Sequential([Dense(1, input_shape=(4,))])
    m.compile("sgd", lambda y_true, y_pred: ((y_true - y_pred) ** 2).mean())
    m.save(str(tmp_path / "m.h5"))


def on_train_end_raising_after_an_error():
    from kerosene.callbacks import LambdaCallback

    def fail(batch, logs):
        raise RuntimeError("the first error")

    def end_fails(logs):
        raise OSError("the second error")
    with pytest.raises(RuntimeError, match="the first error"):
        plain().fit(X, Y, verbose=0, callbacks=[LambdaCallback(on_batch_end=fail, on_train_end=end_fails)])


def rng_of_missing_gpus():
    import torch
    from kerosene.saving.backup_format import capture_rng, restore_rng
    state = capture_rng()
    state["cuda"] = [torch.zeros(16, dtype=torch.uint8)] * (torch.cuda.device_count() + 1)
    restore_rng(state)


def plain():
    m = Sequential([Dense(1, input_shape=(4,))])
    m.compile("sgd", "mse")
    return m


@pytest.mark.parametrize("text, action", [
    ("names unknown outputs", lambda tmp: two_outputs().fit(X, [Y, Y], sample_weight={"o1": np.ones(8), "o3": np.ones(8)},
                                                            verbose=0)),
    ("has no trainable weights", lambda tmp: no_weights().fit(X, X, verbose=0)),
    ("outside a torch.distributed launch", lambda tmp: fsdp_alone().fit(X, Y, verbose=0)),
    ("kerosene reads a generator in this process", lambda tmp: plain().fit_generator(
        batches(), steps_per_epoch=1, verbose=0, workers=2, use_multiprocessing=True)),
    ("Skipping loading of weights", skip_mismatch),
    ("loading the matching keys", skip_mismatch_pt),
    ("saved without its compile settings", save_with_a_lambda_loss),
    ("on_train_end raised OSError: the second error", lambda tmp: on_train_end_raising_after_an_error()),
    ("CUDA RNG states for", lambda tmp: rng_of_missing_gpus()),
], ids=["sample_weight-keys", "no-trainable", "fsdp-alone", "fit_generator-workers", "skip_mismatch",
        "skip_mismatch-pt", "uncompilable-save", "on_train_end-after-error", "cuda-rng"])
def test_engine_warnings_name_this_file(text, action, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action(tmp_path)
    ours = [w for w in caught if text in str(w.message)]
    assert ours, [str(w.message) for w in caught]
    assert {w.filename for w in ours} == {__file__}, [(w.filename, w.lineno) for w in ours]
