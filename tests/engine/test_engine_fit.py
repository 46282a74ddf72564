"""fit/evaluate/predict: hook order, log keys, stop semantics, data kinds, and the maths."""
import io
import math

import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import Callback, LambdaCallback, TerminateOnNaN
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential


def small_model(input_dim=20, units=3, optimizer="sgd", loss="categorical_crossentropy", metrics=None):
    model = Sequential([Dense(units, input_dim=input_dim), Activation("softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [])
    return model


class Recorder(Callback):
    """Records every hook call with a copy of its logs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _rec(self, name, *args):
        logs = args[-1]
        self.calls.append((name,) + tuple(args[:-1]) + (dict(logs) if logs is not None else None,))

    def on_train_begin(self, logs=None): self._rec("train_begin", logs)
    def on_train_end(self, logs=None): self._rec("train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._rec("epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._rec("epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch, logs=None): self._rec("batch_begin", batch, logs)
    def on_train_batch_end(self, batch, logs=None): self._rec("batch_end", batch, logs)
    def on_test_begin(self, logs=None): self._rec("test_begin", logs)
    def on_test_end(self, logs=None): self._rec("test_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._rec("test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._rec("test_batch_end", batch, logs)
    def on_predict_begin(self, logs=None): self._rec("predict_begin", logs)
    def on_predict_end(self, logs=None): self._rec("predict_end", logs)
    def on_predict_batch_begin(self, batch, logs=None): self._rec("predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._rec("predict_batch_end", batch, logs)

    def names(self):
        return [c[0] for c in self.calls]


def test_fit_hook_order_with_validation(blobs, seeded):
    x, y, _ = blobs
    model = small_model(metrics=["accuracy"])
    rec = Recorder()
    history = model.fit(x[:100], y[:100], batch_size=50, epochs=2, verbose=0,
                        validation_data=(x[100:160], y[100:160]), callbacks=[rec])
    one_epoch = ["epoch_begin", "batch_begin", "batch_end", "batch_begin", "batch_end",
                 "test_begin", "test_batch_begin", "test_batch_end", "test_batch_begin", "test_batch_end",
                 "test_batch_begin", "test_batch_end", "test_end", "epoch_end"]
    # validation of 60 samples at batch size 50: 2 test batches
    one_epoch = one_epoch[:6] + ["test_batch_begin", "test_batch_end"] * 2 + ["test_end", "epoch_end"]
    assert rec.names() == ["train_begin"] + one_epoch * 2 + ["train_end"]
    batch_end = [c for c in rec.calls if c[0] == "batch_end"][0]
    assert set(batch_end[2]) == {"batch", "size", "loss", "accuracy"}
    assert batch_end[2]["size"] == 50 and batch_end[2]["batch"] == 0
    epoch_end = [c for c in rec.calls if c[0] == "epoch_end"][0]
    assert list(epoch_end[2]) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(type(v) is float for v in epoch_end[2].values())
    assert rec.calls[-1][1] == epoch_end[2] or rec.calls[-1][1].keys() == epoch_end[2].keys()
    assert history.epoch == [0, 1]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.params["epochs"] == 2 and history.params["steps"] == 2
    assert history.params["metrics"] == ["loss", "accuracy", "val_loss", "val_accuracy"]


def test_epoch_logs_are_size_weighted_means_of_batch_values(blobs, seeded):
    x, y, _ = blobs
    model = small_model(optimizer=kerosene.optimizers.SGD(learning_rate=0.0))
    losses, sizes = [], []
    cb = LambdaCallback(on_batch_end=lambda b, logs: (losses.append(logs["loss"]), sizes.append(logs["size"])))
    history = model.fit(x[:70], y[:70], batch_size=32, epochs=1, verbose=0, shuffle=False, callbacks=[cb])
    assert sizes == [32, 32, 6]
    expected = sum(l * s for l, s in zip(losses, sizes)) / 70
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    # lr=0: the evaluate loss over the same data is the same mean
    assert model.evaluate(x[:70], y[:70], batch_size=32, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_evaluate_and_predict_hooks(blobs):
    x, y, _ = blobs
    model = small_model(metrics=["acc"])
    rec = Recorder()
    result = model.evaluate(x[:64], y[:64], batch_size=32, verbose=0, callbacks=[rec])
    assert isinstance(result, list) and len(result) == 2
    assert rec.names() == ["test_begin"] + ["test_batch_begin", "test_batch_end"] * 2 + ["test_end"]
    assert set(rec.calls[2][2]) == {"batch", "size", "loss", "acc"}
    assert set(rec.calls[-1][1]) == {"loss", "acc"}
    rec = Recorder()
    out = model.predict(x[:40], batch_size=32, callbacks=[rec])
    assert out.shape == (40, 3)
    assert rec.names() == ["predict_begin"] + ["predict_batch_begin", "predict_batch_end"] * 2 + ["predict_end"]
    assert rec.calls[2][2]["outputs"].shape == (32, 3)


def test_evaluate_returns_scalar_without_metrics(blobs):
    x, y, _ = blobs
    model = small_model()
    value = model.evaluate(x, y, verbose=0)
    assert isinstance(value, float)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss"}
    assert model.metrics_names == ["loss"]


def test_stop_training_in_batch_end_stops_within_epoch_and_skips_validation(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()

    class StopAt(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    history = model.fit(x[:200], y[:200], batch_size=20, epochs=5, verbose=0,
                        validation_data=(x[200:], y[200:]), callbacks=[StopAt(), rec])
    assert rec.names().count("batch_end") == 2
    assert "test_begin" not in rec.names()
    assert rec.names()[-2:] == ["epoch_end", "train_end"]
    assert history.epoch == [0]
    assert "val_loss" not in history.history
    assert model.stop_reason == "stop_training"


def test_stop_training_in_epoch_end_stops_after_epoch(blobs):
    x, y, _ = blobs
    model = small_model()

    class StopAfter(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, batch_size=100, epochs=10, verbose=0, callbacks=[StopAfter()])
    assert history.epoch == [0, 1]


def test_stop_training_set_in_train_begin_is_kept(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    stopper = LambdaCallback(on_train_begin=lambda logs: setattr(model, "stop_training", True))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[stopper, rec])
    assert rec.names().count("epoch_end") == 1


def test_on_train_end_runs_on_error_and_reason_recorded(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()

    class Boom(Callback):
        def on_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[rec, Boom()])
    assert rec.names()[-1] == "train_end"
    assert model.stop_reason == "error"


def test_keyboard_interrupt_runs_on_train_end(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()

    class Interrupt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[rec, Interrupt()])
    assert rec.names()[-1] == "train_end"
    assert model.stop_reason == "interrupted"


def test_on_train_end_gets_last_epoch_logs_and_completed_reason(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[rec], validation_split=0.2)
    assert set(rec.calls[-1][1]) == {"loss", "val_loss"}
    assert model.stop_reason == "completed"


def test_terminate_on_nan(blobs, capsys):
    x, y, _ = blobs
    x = x.copy()
    x[45] = np.nan
    model = small_model()
    rec = Recorder()
    history = model.fit(x, y, batch_size=10, epochs=3, verbose=0, shuffle=False,
                        validation_split=0.1, callbacks=[TerminateOnNaN(), rec])
    assert rec.names().count("batch_end") == 5
    assert history.epoch == [0] and "val_loss" not in history.history
    assert model.stop_reason == "nan"
    assert "Batch 4: Invalid loss, terminating training" in capsys.readouterr().out


def test_validation_split_takes_last_fraction(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    model.fit(x[:100], y[:100], batch_size=100, epochs=1, verbose=0, validation_split=0.25, callbacks=[rec])
    sizes = [c[2]["size"] for c in rec.calls if c[0] == "batch_end"]
    test_sizes = [c[2]["size"] for c in rec.calls if c[0] == "test_batch_end"]
    assert sizes == [75] and test_sizes == [25]
    model2 = small_model()
    model2.set_weights(model.get_weights())
    val = model.evaluate(x[75:100], y[75:100], verbose=0)
    assert rec.calls[-2][2]["val_loss"] == pytest.approx(val, rel=1e-5)


def test_validation_freq(blobs):
    x, y, _ = blobs
    model = small_model()
    history = model.fit(x, y, epochs=4, verbose=0, validation_split=0.2, validation_freq=2)
    assert len(history.history["val_loss"]) == 2
    assert len(history.history["loss"]) == 4
    assert "val_loss" in history.params["metrics"]


def test_initial_epoch_and_history(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    history = model.fit(x, y, epochs=4, initial_epoch=2, verbose=0, callbacks=[rec])
    assert history.epoch == [2, 3]
    assert [c[1] for c in rec.calls if c[0] == "epoch_begin"] == [2, 3]


def test_steps_per_epoch_limits_batches(blobs):
    x, y, _ = blobs
    model = small_model()
    rec = Recorder()
    model.fit(x, y, batch_size=10, epochs=2, steps_per_epoch=3, verbose=0, callbacks=[rec])
    assert rec.names().count("batch_end") == 6


def _hand_written_losses(model, x, y, batch_size, epochs, optimizer, loss_fn):
    torch_model = torch.nn.Linear(x.shape[1], y.shape[1])
    w, b = model.get_weights()[:2]
    with torch.no_grad():
        torch_model.weight.copy_(torch.from_numpy(w.T))
        torch_model.bias.copy_(torch.from_numpy(b))
    opt = optimizer(torch_model.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):
            pred = torch.softmax(torch_model(xt[i:i + batch_size]), dim=-1)
            loss = loss_fn(pred, yt[i:i + batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


class KerasRuleRMSprop(torch.optim.Optimizer):
    """Keras's RMSprop written out by hand: v = rho*v + (1-rho)*g^2; p -= lr*g/sqrt(v + eps)."""

    def __init__(self, params, lr, rho=0.9, eps=1e-7):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                v = self.state[p].setdefault("v", torch.zeros_like(p))
                v.mul_(group["rho"]).add_((1 - group["rho"]) * p.grad * p.grad)
                p.sub_(group["lr"] * p.grad / torch.sqrt(v + group["eps"]))


def _keras_cce(pred, target):
    pred = pred / pred.sum(-1, keepdim=True)
    pred = pred.clamp(1e-7, 1 - 1e-7)
    return -(target * pred.log()).sum(-1).mean()


@pytest.mark.parametrize("name", ["sgd", "rmsprop"])
def test_fit_matches_hand_written_loop(blobs, seeded, name):
    x, y, _ = blobs
    if name == "sgd":
        opt = kerosene.optimizers.SGD(learning_rate=0.05)
        torch_opt = lambda p: torch.optim.SGD(p, lr=0.05)
    else:
        opt = kerosene.optimizers.RMSprop(learning_rate=0.01)
        torch_opt = lambda p: KerasRuleRMSprop(p, lr=0.01)
    model = small_model(optimizer=opt)
    expected = _hand_written_losses(model, x, y, 32, 2, torch_opt, _keras_cce)
    got = []
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0,
              callbacks=[LambdaCallback(on_batch_end=lambda b, logs: got.append(logs["loss"]))])
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-5)


def test_data_kinds_give_same_losses(blobs, seeded):
    x, y, _ = blobs
    x, y = x[:96], y[:96]
    init = small_model().get_weights()

    def run(*args, **kwargs):
        model = small_model()
        model.set_weights(init)
        got = []
        model.fit(*args, epochs=1, verbose=0,
                  callbacks=[LambdaCallback(on_batch_end=lambda b, logs: got.append(logs["loss"]))], **kwargs)
        return got

    base = run(x, y, batch_size=32, shuffle=False)
    tensors = run(torch.from_numpy(x), torch.from_numpy(y), batch_size=32, shuffle=False)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = run(torch.utils.data.DataLoader(dataset, batch_size=32))
    ds = run(dataset, batch_size=32, shuffle=False)

    def gen():
        while True:
            for i in range(0, 96, 32):
                yield x[i:i + 32], y[i:i + 32]
    generator = run(gen(), steps_per_epoch=3)
    for other in (tensors, loader, ds, generator):
        np.testing.assert_allclose(other, base, rtol=1e-6)


def test_dict_and_list_inputs_with_custom_model(seeded):
    class TwoInputs(kerosene.Model):
        def __init__(self):
            super().__init__()
            self.a = Dense(4)
            self.b = Dense(4)
            self.out = Dense(1)

        def call(self, inputs):
            return self.out(torch.relu(self.a(inputs["left"]) + self.b(inputs["right"])))

    rng = np.random.default_rng(0)
    left, right = rng.normal(size=(64, 3)).astype("float32"), rng.normal(size=(64, 5)).astype("float32")
    target = left[:, :1] + right[:, :1]
    model = TwoInputs()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit({"left": left, "right": right}, target, epochs=3, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.predict({"left": left, "right": right}).shape == (64, 1)
    assert len(model.layers) == 3


def test_sample_weight_and_class_weight(blobs, seeded):
    x, y, labels = blobs
    model = small_model()
    init = model.get_weights()
    sw = np.where(labels == 0, 2.0, 1.0).astype("float32")
    h1 = model.fit(x, y, batch_size=300, epochs=1, verbose=0, sample_weight=sw, shuffle=False)
    model.set_weights(init)
    h2 = model.fit(x, y, batch_size=300, epochs=1, verbose=0, class_weight={0: 2.0, 1: 1.0, 2: 1.0}, shuffle=False)
    assert h1.history["loss"][0] == pytest.approx(h2.history["loss"][0], rel=1e-6)
    model.set_weights(init)
    h3 = model.fit(x, y, batch_size=300, epochs=1, verbose=0, shuffle=False)
    assert h3.history["loss"][0] != pytest.approx(h1.history["loss"][0], rel=1e-4)


def test_shuffle_order_depends_on_seed_and_epoch_only(blobs):
    x, y, _ = blobs
    torch.manual_seed(3)
    m1 = small_model()
    init = m1.get_weights()
    torch.manual_seed(5)
    h1 = m1.fit(x, y, batch_size=32, epochs=2, verbose=0)
    torch.manual_seed(5)
    m2 = small_model()
    m2.set_weights(init)
    torch.manual_seed(5)
    h2 = m2.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert h1.history["loss"] == h2.history["loss"]


def test_train_test_predict_on_batch(blobs):
    x, y, _ = blobs
    model = small_model(metrics=["accuracy"])
    out = model.train_on_batch(x[:32], y[:32])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, float) for v in out)
    assert isinstance(model.test_on_batch(x[:32], y[:32]), list)
    assert model.predict_on_batch(x[:5]).shape == (5, 3)
    assert model.train_on_batch(x[:32], y[:32], return_dict=True).keys() == {"loss", "accuracy"}


def test_history_holds_floats_only(blobs):
    x, y, _ = blobs
    model = small_model(metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.1)
    for values in history.history.values():
        assert all(type(v) is float for v in values)


def test_lazy_sequential_builds_on_first_data(blobs):
    x, y, _ = blobs
    model = Sequential()
    model.add(Dense(8, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert not model.built
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built
    assert model.count_params() == 20 * 8 + 8 + 8 * 3 + 3


def test_raw_torch_modules_as_layers(blobs):
    x, y, _ = blobs
    model = Sequential([torch.nn.Linear(20, 16), torch.nn.ReLU(), Dense(3), Activation("softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    weights = model.get_weights()
    assert weights[0].shape == (16, 20)  # raw module: torch's own layout
    model.set_weights(weights)


def test_pop_and_layers():
    model = Sequential([Dense(4, input_dim=3), Dense(2)])
    assert len(model.layers) == 2
    model.pop()
    assert len(model.layers) == 1
    with pytest.raises(TypeError):
        Sequential().pop()


def test_optimizer_learning_rate_readable_and_assignable(blobs):
    model = small_model(optimizer="rmsprop")
    assert model.optimizer.learning_rate == pytest.approx(0.001)
    model.optimizer.learning_rate = 0.01
    assert model.optimizer.lr == pytest.approx(0.01)
    x, y, _ = blobs
    model.fit(x, y, epochs=1, verbose=0)
    assert all(g["lr"] == pytest.approx(0.01) for g in model.optimizer.param_groups)


def test_plain_torch_optimizer_accepted(blobs):
    model = Sequential([Dense(3, input_dim=20), Activation("softmax")])
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="categorical_crossentropy")
    x, y, _ = blobs
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.optimizer.learning_rate = 0.5
    assert model.optimizer.param_groups[0]["lr"] == 0.5


def test_custom_train_step_is_used(blobs):
    calls = []

    class Custom(Sequential):
        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    model = Custom([Dense(3, input_dim=20), Activation("softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y, _ = blobs
    model.fit(x, y, batch_size=100, epochs=2, verbose=0)
    assert len(calls) == 6


# --- progress bar ------------------------------------------------------------------------
def test_progbar_verbose1_in_a_log_file_is_one_line_per_epoch(blobs, capsys):
    x, y, _ = blobs
    model = small_model()
    model.fit(x, y, batch_size=10, epochs=2, verbose=1, validation_split=0.2)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert len(lines) == 4
    assert lines[1].startswith("24/24 [==============================] - ")
    assert "/step - loss: " in lines[1] and " - val_loss: " in lines[1]


def test_progbar_verbose2(blobs, capsys):
    x, y, _ = blobs
    model = small_model()
    model.fit(x, y, batch_size=100, epochs=1, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/1"
    assert lines[1].startswith("3/3 - ") and "loss: " in lines[1]


def test_progbar_dynamic_redraws_in_place(blobs, capsys, monkeypatch):
    monkeypatch.setenv("KEROSENE_DYNAMIC_PROGBAR", "1")
    x, y, _ = blobs
    model = small_model()
    model.fit(x, y, batch_size=10, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "\r" in out and out.count("\n") == 2


def test_verbose_zero_prints_nothing(blobs, capsys):
    x, y, _ = blobs
    small_model().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


# --- bad input ---------------------------------------------------------------------------
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


def test_weight_constraints_applied_after_each_step(blobs):
    x, y, _ = blobs
    model = Sequential([Dense(3, input_dim=20, kernel_constraint="non_neg"), Activation("softmax")])
    model.compile(optimizer=kerosene.optimizers.SGD(learning_rate=0.5), loss="categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert (model.get_weights()[0] >= 0).all()


def test_get_weights_includes_parameters_a_custom_layer_assigns_itself():
    class Scale(kerosene.layers.Layer):
        def build(self, input_shape):
            self.scale = torch.nn.Parameter(torch.full((input_shape[-1],), 2.0))

        def call(self, x):
            return x * self.scale

    model = Sequential([Dense(2, input_dim=3), Scale()])
    model.predict(np.ones((1, 3), dtype="float32"))
    weights = model.get_weights()
    assert len(weights) == 3 and np.allclose(weights[2], 2.0)
    weights[2] = np.full(2, 5.0, dtype="float32")
    model.set_weights(weights)
    assert torch.allclose(model.layers[1].scale, torch.full((2,), 5.0))


def test_progbar_count_mode_samples(blobs, capsys):
    from kerosene.callbacks import ProgbarLogger
    x, y, _ = blobs
    small_model().fit(x, y, batch_size=32, epochs=1, verbose=1, callbacks=[ProgbarLogger(count_mode="samples")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/1" and lines[1].startswith("300/300 [") and len(lines) == 2
    with pytest.raises(ValueError, match="count_mode"):
        ProgbarLogger(count_mode="epochs")


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
