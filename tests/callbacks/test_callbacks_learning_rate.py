"""ReduceLROnPlateau and LearningRateScheduler: exact LR trajectories from scripted monitor
values (Keras 3 as an oracle), torch schedulers, the two-setters warning, state, bad input."""
import os
import warnings

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")

from kerosene import optimizers
from kerosene.callbacks import Callback, LambdaCallback, LearningRateScheduler, ReduceLROnPlateau
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(1).normal(size=(16, 4)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype="float32")
LR0 = 0.5


class Script(Callback):
    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values = list(values)
        self.key = key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = float(self.values[epoch])


def model(optimizer=None):
    m = Sequential([Dense(1, input_dim=4)])
    m.compile(optimizer=optimizer or optimizers.SGD(learning_rate=LR0), loss="mse")
    return m


def fit(m, callbacks, epochs, **kwargs):
    return m.fit(X, Y, batch_size=16, epochs=epochs, verbose=0, validation_data=(X, Y),
                 callbacks=callbacks, **kwargs)


def plateau_run(values, **kwargs):
    rl = ReduceLROnPlateau(**kwargs)
    m = model(optimizers.SGD(learning_rate=1e-3))
    m.optimizer.learning_rate = LR0
    history = fit(m, [Script(values), rl], len(values))
    return history.history, rl, m


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def keras_plateau_run(keras, values, **kwargs):
    class KScript(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = float(values[epoch])

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=LR0), loss="mse")
    history = m.fit(X, Y, batch_size=16, epochs=len(values), verbose=0,
                    callbacks=[KScript(), keras.callbacks.ReduceLROnPlateau(**kwargs)])
    return history.history["learning_rate"], float(m.optimizer.learning_rate)


FLAT = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0, 1.01, 1.02]
PLATEAU_CASES = [
    (FLAT, dict(patience=2, factor=0.5), [LR0] * 4 + [0.25] * 2 + [0.125] * 2 + [0.0625] * 2),
    (FLAT, dict(patience=1, factor=0.5, cooldown=2), [LR0] * 3 + [0.25] * 2 + [0.125] * 2 + [0.0625] * 2 + [0.03125]),
    (FLAT, dict(patience=0, factor=0.5, min_lr=0.1), [LR0] * 3 + [0.25, 0.125] + [0.1] * 5),
    ([1.0, 0.99995, 0.9, 0.89995, 0.89991, 0.7, 0.7, 0.7, 0.7, 0.7],
     dict(patience=1, factor=0.1, min_delta=1e-4), [LR0] * 2 + [0.05] * 2 + [0.005] + [0.0005] * 2 + [5e-5, 5e-6, 5e-7]),
    ([0.1, 0.2, 0.19, 0.18, 0.3, 0.29, 0.28, 0.27], dict(patience=2, factor=0.5, mode="max", min_delta=0),
     [LR0] * 4 + [0.25] * 3 + [0.125]),
]


@pytest.mark.parametrize("values,kwargs,expected", PLATEAU_CASES)
def test_plateau_lr_trajectory_matches_expectation_and_keras3(keras, values, kwargs, expected):
    history, rl, m = plateau_run(values, **kwargs)
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-9)
    assert history["learning_rate"] == history["lr"]
    k_trajectory, k_final = keras_plateau_run(keras, values, **kwargs)
    np.testing.assert_allclose(history["lr"], k_trajectory, rtol=1e-6)
    np.testing.assert_allclose(m.optimizer.learning_rate, k_final, rtol=1e-6)


def test_plateau_scales_every_param_group_and_stops_at_the_floor(capsys):
    m = Sequential([Dense(3, input_dim=4), Dense(1)])
    layers = m.layers
    opt = torch.optim.SGD([{"params": layers[0].parameters(), "lr": 0.4},
                           {"params": layers[1].parameters(), "lr": 0.2}], lr=0.4)
    m.compile(optimizer=opt, loss="mse")
    rl = ReduceLROnPlateau(patience=0, factor=0.5, min_lr=0.1, verbose=1)
    fit(m, [Script([1.0] * 6), rl], 6)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.1]
    out = capsys.readouterr().out
    # 0.4/0.2 -> 0.2/0.1 -> 0.1/0.1, then nothing: exactly two messages.
    assert out.count("ReduceLROnPlateau reducing learning rate") == 2
    assert "Epoch 00002: ReduceLROnPlateau reducing learning rate to 0.2." in out


def test_plateau_floor_uses_a_tolerance(capsys):
    # 0.1 * 0.1 is 0.010000000000000002: already at min_lr=0.01, so no second "reduction".
    rl = ReduceLROnPlateau(patience=0, factor=0.1, min_lr=0.01, verbose=1)
    m = model(optimizers.SGD(learning_rate=1.0))
    fit(m, [Script([1.0] * 5), rl], 5)
    assert capsys.readouterr().out.count("reducing learning rate") == 2


def test_plateau_state_resumes_exactly():
    values = FLAT
    full, _, _ = plateau_run(values, patience=1, factor=0.5, cooldown=2)
    first = ReduceLROnPlateau(patience=1, factor=0.5, cooldown=2)
    m = model()
    fit(m, [Script(values), first], 5)
    state = first.state_dict()
    assert set(state) == {"wait", "cooldown_counter", "best"}
    second = ReduceLROnPlateau(patience=1, factor=0.5, cooldown=2)
    history = fit(m, [Script(values), second, LambdaCallback(on_train_begin=lambda logs: second.load_state_dict(state))],
                  len(values), initial_epoch=5)
    np.testing.assert_allclose(history.history["lr"], full["lr"][5:], rtol=1e-12)


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(factor=1.0), ValueError, "factor >= 1"),
    (dict(factor=2), ValueError, "factor"),
    (dict(factor=-0.5), ValueError, "factor"),
    (dict(patience=-1), ValueError, "patience"),
    (dict(cooldown=-1), ValueError, "cooldown"),
    (dict(mode="up"), ValueError, "mode"),
    (dict(min_lr=-1e-3), ValueError, "min_lr"),
    (dict(monitor="val_wobble"), ValueError, "mode="),
    (dict(bogus=1), TypeError, "bogus"),
])
def test_plateau_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        ReduceLROnPlateau(**kwargs)


def test_plateau_epsilon_is_a_deprecated_alias():
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated"):
        rl = ReduceLROnPlateau(epsilon=0.01)
    assert rl.min_delta == 0.01


# --- LearningRateScheduler -----------------------------------------------------------------------
def test_schedule_of_epoch_and_of_epoch_and_lr():
    m = model()
    history = fit(m, [LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))], 4)
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.05, 0.1 / 3, 0.025])

    def halve_after_one(epoch, lr):
        return lr if epoch < 1 else lr * 0.5

    m = model()
    history = fit(m, [LearningRateScheduler(halve_after_one)], 4)
    np.testing.assert_allclose(history.history["learning_rate"], [LR0, LR0 / 2, LR0 / 4, LR0 / 8])
    assert m.optimizer.learning_rate == LR0 / 8


def test_schedule_epochs_are_absolute_and_verbose(capsys):
    seen = []

    def schedule(epoch):
        seen.append(epoch)
        return 0.01 * epoch

    fit(model(), [LearningRateScheduler(schedule, verbose=1)], 4, initial_epoch=2)
    assert seen == [2, 3]
    out = capsys.readouterr().out
    assert "Epoch 00003: LearningRateScheduler setting learning rate to 0.02." in out


def test_schedule_matches_keras3(keras):
    def schedule(epoch, lr):
        return lr * 0.9 if epoch % 2 else lr

    history = fit(model(), [LearningRateScheduler(schedule)], 6)
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    k.compile(optimizer=keras.optimizers.SGD(learning_rate=LR0), loss="mse")
    k_history = k.fit(X, Y, batch_size=16, epochs=6, verbose=0,
                      callbacks=[keras.callbacks.LearningRateScheduler(schedule)])
    np.testing.assert_allclose(history.history["lr"], k_history.history["learning_rate"], rtol=1e-6)


@pytest.mark.parametrize("returned,words", [
    ("0.1", "must return a number"), (None, "must return a number"), (True, "must return a number"),
    (-0.1, ">= 0"), (float("nan"), "finite"), ([0.1, 0.2], "must return a number"),
])
def test_schedule_returning_a_non_number_is_a_clear_error(returned, words):
    m = model()
    before = m.get_weights()
    with pytest.raises(ValueError, match=words):
        fit(m, [LearningRateScheduler(lambda epoch: returned)], 2)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)  # failed before any training step


def test_schedule_accepts_numpy_and_tensor_numbers():
    history = fit(model(), [LearningRateScheduler(lambda e: np.float32(0.25) if e else torch.tensor(0.5))], 2)
    assert history.history["lr"] == [0.5, 0.25]


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(schedule=0.1), TypeError, "schedule"),
    (dict(schedule="cosine"), TypeError, "schedule"),
    (dict(schedule=lambda: 0.1), TypeError, "schedule"),
    (dict(schedule=lambda e: 0.1, interval="step"), ValueError, "interval"),
    (dict(schedule=lambda e: 0.1, interval="batch"), ValueError, "torch"),
    (dict(schedule=lambda e: 0.1, verbose=-1), ValueError, "verbose"),
])
def test_scheduler_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        LearningRateScheduler(**kwargs)


def test_torch_scheduler_stepped_per_epoch_matches_a_plain_torch_loop():
    m = model()
    step_lr = torch.optim.lr_scheduler.StepLR(m.optimizer, step_size=2, gamma=0.5)
    history = fit(m, [LearningRateScheduler(step_lr)], 6)

    params = [torch.nn.Parameter(torch.zeros(1))]
    reference_opt = torch.optim.SGD(params, lr=LR0)
    reference = torch.optim.lr_scheduler.StepLR(reference_opt, step_size=2, gamma=0.5)
    expected = []
    for _ in range(6):
        expected.append(reference_opt.param_groups[0]["lr"])
        reference_opt.step()
        reference.step()
    assert history.history["lr"] == expected == [0.5, 0.5, 0.25, 0.25, 0.125, 0.125]


def test_torch_scheduler_stepped_per_batch():
    m = model()
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(m.optimizer, T_max=8, eta_min=0.0)
    cb = LearningRateScheduler(cosine, interval="batch")
    m.fit(X, Y, batch_size=4, epochs=2, verbose=0, callbacks=[cb])  # 4 batches per epoch, 8 steps
    assert cosine.last_epoch == 8
    assert m.optimizer.learning_rate == pytest.approx(0.0, abs=1e-12)
    state = cb.state_dict()
    assert state["scheduler"]["last_epoch"] == 8


def test_torch_scheduler_on_another_optimizer_is_refused():
    other = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    cb = LearningRateScheduler(torch.optim.lr_scheduler.StepLR(other, step_size=1))
    m = model()
    before = m.get_weights()
    with pytest.raises(ValueError, match="model.optimizer"):
        fit(m, [cb], 1)
    np.testing.assert_array_equal(before[0], m.get_weights()[0])


def test_torch_reduce_on_plateau_is_refused():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(TypeError, match="kerosene.callbacks.ReduceLROnPlateau"):
        LearningRateScheduler(torch.optim.lr_scheduler.ReduceLROnPlateau(opt))


# --- two setters ----------------------------------------------------------------------------------
def _lr_warnings(callbacks, epochs=2, m=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(m or model(), callbacks, epochs)
    return [str(w.message) for w in caught if "set the learning rate" in str(w.message)]


@pytest.mark.parametrize("scheduler_first", [True, False])
def test_two_lr_setters_warn_once_saying_which_wins(scheduler_first):
    schedule = LearningRateScheduler(lambda epoch: 0.1)
    plateau = ReduceLROnPlateau(patience=0)
    callbacks = [schedule, plateau] if scheduler_first else [plateau, schedule]
    messages = _lr_warnings(callbacks, epochs=3)
    assert len(messages) == 1
    assert "LearningRateScheduler sets it last (at the start of each epoch), so its value wins" in messages[0]
    assert "ReduceLROnPlateau (at the end of each epoch)" in messages[0]


def test_one_lr_setter_does_not_warn_and_each_fit_warns_again():
    assert _lr_warnings([ReduceLROnPlateau(patience=0)]) == []
    m = model()
    schedule, plateau = LearningRateScheduler(lambda epoch: 0.1), ReduceLROnPlateau(patience=0)
    assert len(_lr_warnings([schedule, plateau], m=m)) == 1
    assert len(_lr_warnings([schedule, plateau], m=m)) == 1


def test_per_batch_torch_scheduler_wins_over_plateau():
    m = model()
    sched = LearningRateScheduler(torch.optim.lr_scheduler.ExponentialLR(m.optimizer, gamma=0.9), interval="batch")
    messages = _lr_warnings([sched, ReduceLROnPlateau(patience=0)], m=m)
    assert len(messages) == 1 and "sets it last (after every batch)" in messages[0]
