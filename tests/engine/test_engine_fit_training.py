"""fit: validation, epochs and steps, data kinds, weights, and the maths against a hand-written loop."""
import numpy as np
import pytest
import torch

import kerosene
from kerosene.callbacks import LambdaCallback
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential
from fit_helpers import Recorder, small_model  # tests/engine/fit_helpers.py


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
