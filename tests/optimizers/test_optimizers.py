"""kerosene.optimizers: Keras 3 update rules (oracle: Keras 3 on torch), the Keras
surface (lr property, iterations, config), torch adaptation and bad arguments."""

import copy
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerosene import optimizers
from kerosene.optimizers import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam,
                                 RMSprop)

ALL = [SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam]

# ----------------------------------------------------------------- oracle
N_IN, N_OUT, BATCH, STEPS = 6, 4, 8, 5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(N_IN, N_OUT)).astype("float32") * 0.5
    bias = rng.normal(size=(N_OUT,)).astype("float32") * 0.1
    xs = [rng.normal(size=(BATCH, N_IN)).astype("float32") for _ in range(STEPS)]
    labels = [rng.integers(0, N_OUT, size=BATCH) for _ in range(STEPS)]
    ys = [np.eye(N_OUT, dtype="float32")[lab] for lab in labels]
    return kernel, bias, xs, ys


def _keras_run(keras_opt, softmax, seed=0):
    keras = pytest.importorskip("keras")
    kernel, bias, xs, ys = _data(seed)
    model = keras.Sequential([
        keras.Input((N_IN,)),
        keras.layers.Dense(N_OUT, activation="softmax" if softmax else None),
    ])
    model.compile(optimizer=keras_opt,
                  loss="categorical_crossentropy" if softmax else "mse")
    model.set_weights([kernel, bias])
    step_losses = [float(model.train_on_batch(x, y)) for x, y in zip(xs, ys)]
    k, b = model.get_weights()
    return step_losses, k, b


def _kerosene_run(opt, softmax, seed=0):
    kernel, bias, xs, ys = _data(seed)
    k = torch.nn.Parameter(torch.tensor(kernel))
    b = torch.nn.Parameter(torch.tensor(bias))
    opt.build([k, b])
    step_losses = []
    for x, y in zip(xs, ys):
        out = torch.tensor(x) @ k + b
        y = torch.tensor(y)
        if softmax:
            p = torch.softmax(out, -1)
            p = (p / p.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
            loss = -(y * p.log()).sum(-1).mean()
        else:
            loss = (out - y).square().mean(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step_losses.append(loss.item())
    return step_losses, k.detach().numpy(), b.detach().numpy()


def _compare(keras_result, kerosene_result):
    kl, kk, kb = keras_result
    ml, mk, mb = kerosene_result
    np.testing.assert_allclose(ml, kl, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(mk, kk, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(mb, kb, atol=1e-4, rtol=1e-4)


CASES = [
    # (id, kerosene factory, keras class name, keras kwargs)
    ("sgd", lambda: SGD(learning_rate=0.1), "SGD", dict(learning_rate=0.1)),
    ("sgd-momentum", lambda: SGD(0.1, momentum=0.9), "SGD",
     dict(learning_rate=0.1, momentum=0.9)),
    ("sgd-nesterov", lambda: SGD(0.1, momentum=0.9, nesterov=True), "SGD",
     dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    ("rmsprop", lambda: RMSprop(0.01), "RMSprop", dict(learning_rate=0.01)),
    ("rmsprop-centered", lambda: RMSprop(0.01, centered=True), "RMSprop",
     dict(learning_rate=0.01, centered=True)),
    ("rmsprop-momentum", lambda: RMSprop(0.01, momentum=0.5, rho=0.8), "RMSprop",
     dict(learning_rate=0.01, momentum=0.5, rho=0.8)),
    ("adam", lambda: Adam(0.01), "Adam", dict(learning_rate=0.01)),
    ("adam-amsgrad", lambda: Adam(0.01, amsgrad=True, beta_2=0.9), "Adam",
     dict(learning_rate=0.01, amsgrad=True, beta_2=0.9)),
    ("adamw", lambda: AdamW(0.01, weight_decay=0.1), "AdamW",
     dict(learning_rate=0.01, weight_decay=0.1)),
    ("adagrad", lambda: Adagrad(), "Adagrad", dict(learning_rate=0.01, initial_accumulator_value=0.0)),
    ("adagrad-keras3-start", lambda: Adagrad(initial_accumulator_value=0.1), "Adagrad",
     dict(learning_rate=0.01)),
    ("adadelta", lambda: Adadelta(), "Adadelta", dict(learning_rate=1.0)),
    ("adamax", lambda: Adamax(), "Adamax", dict(learning_rate=0.002)),
    ("nadam", lambda: Nadam(0.01), "Nadam", dict(learning_rate=0.01)),
    ("sgd-weight-decay", lambda: SGD(0.1, weight_decay=0.05), "SGD",
     dict(learning_rate=0.1, weight_decay=0.05)),
    ("rmsprop-clipnorm", lambda: RMSprop(0.01, clipnorm=0.05), "RMSprop",
     dict(learning_rate=0.01, clipnorm=0.05)),
    ("adam-clipvalue", lambda: Adam(0.01, clipvalue=0.02), "Adam",
     dict(learning_rate=0.01, clipvalue=0.02)),
    ("sgd-global-clipnorm", lambda: SGD(0.1, global_clipnorm=0.05), "SGD",
     dict(learning_rate=0.1, global_clipnorm=0.05)),
]


@pytest.mark.parametrize("softmax", [True, False], ids=["softmax-cce", "linear-mse"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_keras3(case, softmax):
    keras = pytest.importorskip("keras")
    _, make, keras_name, keras_kwargs = case
    keras_opt = getattr(keras.optimizers, keras_name)(**keras_kwargs)
    _compare(_keras_run(keras_opt, softmax), _kerosene_run(make(), softmax))


def test_defaults_are_keras2():
    expected = {SGD: 0.01, RMSprop: 0.001, Adam: 0.001, AdamW: 0.001, Adagrad: 0.01,
                Adadelta: 1.0, Adamax: 0.002, Nadam: 0.002}
    for cls, lr in expected.items():
        assert cls().learning_rate == lr, cls
        assert str(lr) in cls.__doc__ or repr(lr) in cls.__doc__
    rms = RMSprop().get_config()
    assert (rms["rho"], rms["epsilon"], rms["momentum"], rms["centered"]) == (
        0.9, 1e-7, 0.0, False)
    assert AdamW().weight_decay == 0.004
    assert Adagrad().get_config()["initial_accumulator_value"] == 0.0  # Keras 2.2 starts at zero


# ------------------------------------------------------------ Keras surface
def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))


def _train(opt, model, steps=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(5, 3, generator=g)
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_lr_property_every_group(cls):
    model = _model()
    opt = cls(learning_rate=0.5)
    assert opt.lr == opt.learning_rate == 0.5  # pending value before build
    opt.lr = 0.25
    assert opt.learning_rate == 0.25
    opt.build([{"params": model[0].parameters()}, {"params": model[1].parameters()}])
    assert [g["lr"] for g in opt.param_groups] == [0.25, 0.25]
    opt.learning_rate = np.float32(0.125)
    assert [g["lr"] for g in opt.param_groups] == [0.125, 0.125]
    assert all(type(g["lr"]) is float for g in opt.param_groups)
    assert isinstance(opt.lr, float) and opt.lr == 0.125
    assert isinstance(opt, torch.optim.Optimizer)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_state_dict_resume_is_exact(cls):
    model_a, model_b = _model(), _model()
    opt_a = cls(learning_rate=0.01)
    opt_a.build(model_a.parameters())
    _train(opt_a, model_a, steps=3)
    state = copy.deepcopy(opt_a.state_dict())
    assert state["iterations"] == 3 == opt_a.iterations
    model_b.load_state_dict(model_a.state_dict())
    opt_b = cls(learning_rate=0.01)
    opt_b.load_state_dict(state)  # before build: applied at build
    opt_b.build(model_b.parameters())
    assert opt_b.iterations == 3
    _train(opt_a, model_a, steps=2, seed=7)
    _train(opt_b, model_b, steps=2, seed=7)
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa, pb)


def test_step_before_build_is_clear_error():
    with pytest.raises(RuntimeError, match="build"):
        Adam().step()


def test_build_twice():
    model = _model()
    opt = SGD()
    opt.build(model.parameters())
    opt.build(model.parameters())  # same parameters: no-op
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match="empty"):
        SGD().build([])


def test_one_optimizer_compiled_into_two_models_trains_each():
    # Keras 2 code (GANs above all) compiles one optimizer object into several models.
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    opt = Adam(lr=0.01)
    first = Sequential([Dense(1, input_dim=3)])
    second = Sequential([Dense(1, input_dim=3)])
    first.compile(opt, "mse")
    second.compile(opt, "mse")
    assert len(opt.param_groups) == 2
    x, y = np.random.rand(16, 3).astype("float32"), np.random.rand(16, 1).astype("float32")
    before = [m.get_weights()[0].copy() for m in (first, second)]
    first.train_on_batch(x, y)
    assert not np.allclose(first.get_weights()[0], before[0])
    np.testing.assert_array_equal(second.get_weights()[0], before[1])  # no gradient, no update
    second.train_on_batch(x, y)
    assert not np.allclose(second.get_weights()[0], before[1])
    assert opt.iterations == 2  # shared, as Keras 2's optimizer.iterations
    opt.lr = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]


@pytest.mark.parametrize("cls,name,value", [
    (SGD, "momentum", 0.5), (RMSprop, "rho", 0.8), (RMSprop, "epsilon", 1e-4), (Adam, "beta_1", 0.7),
    (Adam, "beta_2", 0.95), (Adamax, "beta_1", 0.6), (Nadam, "beta_2", 0.9), (Adadelta, "rho", 0.5),
    (SGD, "decay", 0.1)])
def test_hyperparameters_are_keras2_attributes_for_get_and_set_value(cls, name, value):
    from kerosene import backend as K
    opt = cls()
    opt.build(_model().parameters())
    K.set_value(getattr(opt, name), value)
    assert K.get_value(getattr(opt, name)) == pytest.approx(value)
    assert isinstance(getattr(opt, name), float)
    if name != "decay":
        assert opt.param_groups[0][name] == pytest.approx(value)
    assert opt.get_config()[name] == pytest.approx(value)


def test_momentum_scheduled_through_set_value_is_used_by_the_next_step():
    from kerosene import backend as K
    w = torch.nn.Parameter(torch.zeros(1))
    opt = SGD(lr=1.0, momentum=0.9)
    opt.build([w])
    w.grad = torch.ones(1)
    opt.step()  # m = -1, w = -1
    K.set_value(opt.momentum, 0.0)
    opt.step()  # momentum 0: a plain step, w = -2 (with 0.9 it would be -1 - 1.9)
    assert w.item() == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="`momentum` must be a float >= 0.0, got -1.0"):
        opt.momentum = -1.0
    with pytest.raises(TypeError, match="`nesterov` must be a bool"):
        opt.nesterov = "yes"
    with pytest.raises(AttributeError, match="no attribute 'beta_1'"):
        opt.beta_1


def test_keras2_lower_case_names_and_in_place_class_name_normalising():
    assert optimizers.sgd is SGD and optimizers.rmsprop is RMSprop and optimizers.adam is Adam
    assert optimizers.adagrad is Adagrad and optimizers.adadelta is Adadelta
    assert optimizers.adamax is Adamax and optimizers.nadam is Nadam
    config = optimizers.serialize(SGD(lr=0.2, momentum=0.5))
    assert config["class_name"] == "SGD"
    opt = optimizers.deserialize(config)
    assert isinstance(opt, SGD) and opt.momentum == pytest.approx(0.5)
    assert config["class_name"] == "sgd"  # Keras 2.2 lower-cases a built-in's name in the dict
    assert isinstance(optimizers.deserialize({"class_name": "ADAM", "config": {}}), Adam)


def test_decay_is_keras2_time_based():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = SGD(lr=1.0, decay=0.5)
    opt.build([w])
    for _ in range(3):
        w.grad = torch.ones(1)
        opt.step()
    # steps use lr / (1 + 0.5 * it) for it = 0, 1, 2
    assert w.item() == pytest.approx(-(1.0 + 1 / 1.5 + 1 / 2.0))
    assert opt.learning_rate == 1.0  # the base rate is reported, as in Keras 2
    assert opt.current_learning_rate() == pytest.approx(1 / 2.5)


def test_clipnorm_and_clipvalue_do_not_touch_grad():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = SGD(learning_rate=1.0, clipnorm=1.0)
    opt.build([w])
    w.grad = torch.tensor([3.0, 4.0])
    opt.step()
    assert torch.allclose(w.detach(), torch.tensor([-0.6, -0.8]))
    assert torch.equal(w.grad, torch.tensor([3.0, 4.0]))
    w2 = torch.nn.Parameter(torch.zeros(2))
    opt = SGD(learning_rate=1.0, clipvalue=0.5)
    opt.build([w2])
    w2.grad = torch.tensor([3.0, -0.25])
    opt.step()
    assert torch.allclose(w2.detach(), torch.tensor([-0.5, 0.25]))


def test_params_without_grad_are_skipped():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = Adam(0.1)
    opt.build([a, b])
    a.grad = torch.ones(2)
    opt.step()
    assert torch.equal(b.detach(), torch.ones(2)) and b not in opt.state
    assert not torch.equal(a.detach(), torch.ones(2))


def test_torch_lr_scheduler_works():
    model = _model()
    opt = SGD(learning_rate=1.0)
    opt.build(model.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    _train(opt, model, steps=1)
    sched.step()
    assert opt.learning_rate == 0.5


# --------------------------------------------------------------- registry
@pytest.mark.parametrize("name,cls", [
    ("sgd", SGD), ("SGD", SGD), ("rmsprop", RMSprop), ("RMSprop", RMSprop),
    ("adam", Adam), ("adamw", AdamW), ("adagrad", Adagrad), ("adadelta", Adadelta),
    ("adamax", Adamax), ("Nadam", Nadam)])
def test_get_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls and not opt.built


def test_get_instance_dict_and_errors():
    opt = RMSprop(0.5)
    assert optimizers.get(opt) is opt
    opt2 = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.3}})
    assert isinstance(opt2, Adam) and opt2.lr == 0.3
    with pytest.raises(ValueError, match="'rmsprop'"):
        optimizers.get("adamm")
    with pytest.raises(TypeError):
        optimizers.get(3)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.05, clipvalue=1.0, decay=0.01, name="opt")
    config = optimizers.serialize(opt)
    assert config["class_name"] == cls.__name__
    again = optimizers.deserialize(config)
    assert type(again) is cls and again.get_config() == opt.get_config()


def test_from_keras3_config():
    keras = pytest.importorskip("keras")
    config = keras.optimizers.RMSprop(learning_rate=0.02, rho=0.8).get_config()
    opt = RMSprop.from_config(config)
    assert opt.learning_rate == pytest.approx(0.02) and opt.defaults["rho"] == 0.8
    config["use_ema"] = True
    with pytest.raises(ValueError, match="use_ema"):
        RMSprop.from_config(config)


def test_torch_optimizer_adapted_in_place():
    model = _model()
    torch_opt = torch.optim.SGD([{"params": model[0].parameters()},
                                 {"params": model[1].parameters(), "lr": 0.3}], lr=0.1)
    opt = optimizers.get(torch_opt)
    assert opt is torch_opt and isinstance(opt, torch.optim.SGD)
    assert type(opt).__name__ == "SGD"
    assert opt.lr == 0.1
    opt.learning_rate = 0.2
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2]
    opt.build(model.parameters())  # a check only
    with pytest.raises(ValueError, match="none of the model"):
        opt.build(_model().parameters())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.build(list(model.parameters()) + [torch.nn.Parameter(torch.ones(1))])
    assert caught and "does not update 1" in str(caught[0].message)
    _train(opt, model, steps=1)
    assert opt.iterations == 0  # torch SGD keeps no step count
    # a second torch optimizer of the same class shares the cached subclass
    other = optimizers.get(torch.optim.SGD(model.parameters(), lr=0.1))
    assert type(other) is type(opt)
    adam = optimizers.get(torch.optim.Adam(model.parameters(), lr=0.1))
    _train(adam, model, steps=2)
    assert adam.iterations == 2
    adam.load_state_dict(adam.state_dict())


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_negative_lr_names_argument(cls):
    with pytest.raises(ValueError, match="learning_rate"):
        cls(learning_rate=-0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        cls(lr=-1)
    opt = cls()
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    with pytest.raises(TypeError, match="learning_rate"):
        cls(learning_rate="fast")


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_unknown_kwarg_is_type_error(cls):
    with pytest.raises(TypeError, match="'momentun'"):
        cls(momentun=0.9)


@pytest.mark.parametrize("kwargs,match", [
    (dict(momentum=1.5), "momentum"), (dict(momentum=-0.1), "momentum"),
    (dict(clipnorm=-1.0), "clipnorm"), (dict(clipvalue=0.0), "clipvalue"),
    (dict(decay=-0.1), "decay"), (dict(clipnorm=1.0, global_clipnorm=1.0), "global_clipnorm"),
])
def test_bad_values_name_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD(**kwargs)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="beta_1"):
        Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="rho"):
        RMSprop(rho=2)
    with pytest.raises(ValueError, match="epsilon"):
        Adagrad(epsilon=-1)
    with pytest.raises(TypeError, match="nesterov"):
        SGD(nesterov="yes")


def test_step_has_no_python_loop_over_params_ops(monkeypatch):
    """The update uses foreach kernels: a model with many tensors costs a fixed
    number of tensor ops per step."""
    params = [torch.nn.Parameter(torch.randn(3)) for _ in range(50)]
    opt = RMSprop()
    opt.build(params)
    for p in params:
        p.grad = torch.randn(3)
    opt.step()
    calls = []
    real_sqrt = torch.sqrt
    monkeypatch.setattr(torch, "sqrt", lambda *a, **k: calls.append(1) or real_sqrt(*a, **k))
    opt.step()
    assert not calls


def test_deepcopy_pickle_and_zero_grad_before_build():
    import io
    import pickle

    opt = Adam(0.01, clipnorm=1.0, name="my_adam")
    opt.zero_grad()  # no-op before build
    model = _model()
    opt.build(model.parameters())
    _train(opt, model, steps=2)
    clone = copy.deepcopy(opt)
    assert (clone.iterations, clone.clipnorm, clone.name, clone.built) == (2, 1.0, "my_adam", True)
    again = pickle.loads(pickle.dumps(SGD(0.3, momentum=0.5)))
    assert again.lr == 0.3 and again.defaults["momentum"] == 0.5 and not again.built
    torch_opt = optimizers.get(torch.optim.Adam(model.parameters(), lr=0.02))
    buf = io.BytesIO()
    torch.save(torch_opt, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert isinstance(loaded, torch.optim.Adam) and loaded.lr == 0.02


def test_load_state_dict_accepts_numpy_state():
    """State read back from HDF5 may be numpy arrays."""
    model = _model()
    opt = RMSprop(momentum=0.5)
    opt.build(model.parameters())
    _train(opt, model, steps=2)
    state = opt.state_dict()
    state["state"] = {k: {n: v.numpy().copy() for n, v in entry.items()}
                      for k, entry in state["state"].items()}
    state["iterations"] = np.int64(2)
    other = RMSprop(momentum=0.5)
    other.build(model.parameters())
    other.load_state_dict(state)
    assert other.iterations == 2
    assert all(isinstance(t, torch.Tensor) for s in other.state.values() for t in s.values())
    _train(other, model, steps=1)


def test_from_keras2_configs():
    sgd = SGD.from_config({"lr": 0.1, "momentum": 0.9, "decay": 1e-4, "nesterov": True})
    assert (sgd.lr, sgd.decay, sgd.defaults["nesterov"]) == (0.1, 1e-4, True)
    legacy = {"name": "RMSprop", "learning_rate": 0.001, "decay": 0.0, "rho": 0.9,
              "momentum": 0.0, "epsilon": 1e-07, "centered": False,
              "is_legacy_optimizer": False, "jit_compile": True}
    assert RMSprop.from_config(legacy).name == "RMSprop"
    opt = optimizers.get({"class_name": "Adam", "config": {"lr": 0.002, "beta_1": 0.8,
                                                           "epsilon": None}})  # Keras 2.2: None = 1e-7
    assert opt.lr == 0.002 and opt.defaults["beta_1"] == 0.8 and opt.defaults["epsilon"] == 1e-7


def test_a_shared_optimizer_takes_a_lazily_built_model_at_its_first_fit():
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    opt = SGD(lr=0.1)
    built = Sequential([Dense(1, input_dim=3)])
    built.compile(opt, "mse")
    lazy = Sequential([Dense(1)])
    lazy.compile(opt, "mse")
    x, y = np.random.rand(8, 3).astype("float32"), np.random.rand(8, 1).astype("float32")
    lazy.fit(x, y, epochs=1, verbose=0)  # builds here, then joins the optimizer
    before = lazy.get_weights()[0].copy()
    lazy.train_on_batch(x, y)
    assert len(opt.param_groups) == 2 and not np.allclose(lazy.get_weights()[0], before)
