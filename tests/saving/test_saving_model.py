"""Whole-model save/load: compile settings, optimizer state, custom layers, refusals, bad input."""
import h5py
import numpy as np
import pytest
import torch
from torch import nn

import kerosene
from kerosene import layers as L
from kerosene.models import Sequential, load_model
from kerosene.saving import NotSerializableError, register_serializable


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return x, y


def _model():
    return Sequential([L.Dense(8, input_dim=5, activation="relu"), L.BatchNormalization(), L.Dropout(0.2),
                       L.Dense(3, activation="softmax")])


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "nadam",
                                       lambda: kerosene.optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
                                       "torch_adam"])
def test_continued_training_matches(tmp_path, optimizer):
    x, y = _data()
    torch.manual_seed(0)
    model = _model()
    if optimizer == "torch_adam":
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
    else:
        opt = optimizer() if callable(optimizer) else optimizer
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    path = tmp_path / "m.h5"
    model.save(str(path))
    restored = load_model(str(path))
    assert restored.metrics_names == model.metrics_names or restored.metrics_names == []
    torch.manual_seed(1)
    expected = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    torch.manual_seed(1)
    got = restored.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    assert set(got) == set(expected) == {"loss", "accuracy"}
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))


def test_without_optimizer_state_training_differs(tmp_path):
    """The optimizer state matters: without it Adam's next epoch is different (the test above can fail)."""
    x, y = _data()
    torch.manual_seed(0)
    model = _model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    model.save(str(tmp_path / "m.h5"), include_optimizer=False)
    restored = load_model(str(tmp_path / "m.h5"))
    assert restored.optimizer.iterations == 0
    torch.manual_seed(1)
    expected = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False).history["loss"]
    torch.manual_seed(1)
    got = restored.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False).history["loss"]
    assert not np.allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_file_layout_is_keras2(tmp_path):
    import json
    model = _model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["acc"])
    model.save(str(tmp_path / "m.h5"))
    with h5py.File(tmp_path / "m.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"])
        assert config["class_name"] == "Sequential"
        assert [l["class_name"] for l in config["config"]["layers"]] == ["InputLayer", "Dense", "BatchNormalization",
                                                                          "Dropout", "Dense"]
        assert config["config"]["layers"][1]["config"]["units"] == 8
        assert training["loss"] == "categorical_crossentropy" and training["metrics"] == ["acc"]
        assert training["optimizer_config"]["class_name"] == "RMSprop"
        assert "layer_names" in f["model_weights"].attrs
        assert all(isinstance(obj, (h5py.Dataset, h5py.Group)) for obj in f["kerosene_optimizer_state"].values())


def test_uncompiled_and_compile_false(tmp_path):
    model = _model()
    model.save(str(tmp_path / "m.h5"))
    assert load_model(str(tmp_path / "m.h5")).optimizer is None
    model.compile(optimizer="adam", loss="mse")
    model.save(str(tmp_path / "m.h5"))
    assert load_model(str(tmp_path / "m.h5"), compile=False).optimizer is None
    assert load_model(str(tmp_path / "m.h5")).optimizer is not None


class WeightedScale(L.Layer):
    """A custom layer with one weight (a name no docs example registers)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.w = nn.Parameter(torch.full((1,), float(factor)))

    def call(self, x):
        return x * self.w

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@register_serializable(package="TestSaving")
class Shift(L.Layer):
    def __init__(self, by=1.0, **kwargs):
        super().__init__(**kwargs)
        self.by = by

    def call(self, x):
        return x + self.by

    def get_config(self):
        return {**super().get_config(), "by": self.by}


def test_custom_objects_and_registered_layers(tmp_path):
    x, _ = _data(8)
    model = Sequential([L.Dense(3, input_dim=5), WeightedScale(3.0), Shift(0.5)])
    with torch.no_grad():
        model.layers[1].w.fill_(7.0)
    model.save(str(tmp_path / "m.h5"))
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert '"class_name": "TestSaving>Shift"' in str(f.attrs["model_config"])
    with pytest.raises(ValueError, match="WeightedScale"):
        load_model(str(tmp_path / "m.h5"))
    restored = load_model(str(tmp_path / "m.h5"), custom_objects={"WeightedScale": WeightedScale})
    assert isinstance(restored.layers[2], Shift) and restored.layers[2].by == 0.5
    assert float(restored.layers[1].w.detach()) == 7.0
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))


def test_custom_loss_function_needs_custom_objects(tmp_path):
    def my_loss(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean(-1)
    x, y = _data(16)
    model = _model()
    model.compile(optimizer="sgd", loss=my_loss)
    model.save(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(str(tmp_path / "m.h5"))
    restored = load_model(str(tmp_path / "m.h5"), custom_objects={"my_loss": my_loss})
    assert np.isclose(restored.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0))


def test_lambda_loss_saves_without_compile_settings(tmp_path):
    model = _model()
    model.compile(optimizer="sgd", loss=lambda t, p: ((t - p) ** 2).mean(-1))
    with pytest.warns(RuntimeWarning, match="without its compile settings"):
        model.save(str(tmp_path / "m.h5"))
    assert load_model(str(tmp_path / "m.h5")).optimizer is None


@pytest.mark.parametrize("bad_layer, what", [
    (lambda: nn.Linear(3, 3), "plain torch module"),
])
def test_undescribable_layers_refuse_save(tmp_path, bad_layer, what):
    model = Sequential([L.Dense(3, input_dim=5), bad_layer()])
    path = tmp_path / "m.h5"
    with pytest.raises(NotSerializableError, match=what) as info:
        model.save(str(path))
    assert "save_weights" in str(info.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    model.save_weights(str(tmp_path / "w.h5"))      # the suggested way out works
    twin = Sequential([L.Dense(3, input_dim=5), bad_layer()])
    twin.load_weights(str(tmp_path / "w.h5"))
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_subclassed_model_refuses_save(tmp_path):
    class Net(kerosene.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2, input_dim=3)

        def call(self, x):
            return self.d(x)

    net = Net()
    net.predict(np.zeros((1, 3), "float32"))
    with pytest.raises(NotSerializableError, match="subclassed model"):
        net.save(str(tmp_path / "m.h5"))
    net.save_weights(str(tmp_path / "w.pt"))
    other = Net()
    other.predict(np.zeros((1, 3), "float32"))
    other.load_weights(str(tmp_path / "w.pt"))
    np.testing.assert_array_equal(other.get_weights()[0], net.get_weights()[0])


def test_model_from_config_is_keras2_shape():
    model = _model()
    config = model.get_config()  # Keras 2's Sequential.get_config: the inner dict
    assert config["name"] == model.name and "class_name" not in config
    clone = kerosene.saving.model_from_config({"class_name": "Sequential", "config": config})
    assert [l.get_config() for l in clone.layers] == [l.get_config() for l in model.layers]


def test_bad_arguments(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"\.h5, \.hdf5"):
        model.save(str(tmp_path / "m.txt"))
    with pytest.raises(ValueError, match=r"\.keras archive or as HDF5"):
        model.save(str(tmp_path / "m.txt"))
    with pytest.raises(TypeError, match="include_optimizer"):
        model.save(str(tmp_path / "m.h5"), include_optimizer="yes")
    with pytest.raises(TypeError, match="filepath"):
        model.save(3)
    with pytest.raises(TypeError, match="compile"):
        load_model(str(tmp_path / "m.h5"), compile="no")
    with pytest.raises(TypeError, match="custom_objects"):
        model.save(str(tmp_path / "m.h5"))
        load_model(str(tmp_path / "m.h5"), custom_objects=["WeightedScale"])
    model.save(str(tmp_path / "m.h5"))
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(str(tmp_path / "m.h5"), overwrite=False)
    model.save_weights(str(tmp_path / "w.h5"))
    with pytest.raises(ValueError, match="weights-only file"):
        load_model(str(tmp_path / "w.h5"))


def test_keras3_loads_a_whole_sequential_model_saved_by_kerosene(tmp_path):
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    model = Sequential([Dense(4, input_dim=3, activation="relu"), Dense(2, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    path = tmp_path / "m.h5"
    model.save(str(path))
    x = np.random.default_rng(0).random((5, 3)).astype("float32")
    theirs = keras.models.load_model(str(path), compile=False)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x), atol=1e-6)
    from kerosene.models import load_model
    ours = load_model(str(path))
    np.testing.assert_allclose(ours.predict(x), model.predict(x), atol=1e-7)


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os
    import stat
    from kerosene.layers import Dense
    from kerosene.models import Sequential
    model = Sequential([Dense(2, input_dim=3)])
    path = tmp_path / "w.h5"
    model.save_weights(str(path))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask
