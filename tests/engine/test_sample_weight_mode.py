"""compile(sample_weight_mode=...): per-timestep weights and Keras 2's checks against the outputs."""
import numpy as np
import pytest

from kerosene import layers as L
from kerosene.engine.targets import sample_weight_modes
from kerosene.models import Model, Sequential

RNG = np.random.default_rng(0)
X3 = RNG.random((8, 5, 3)).astype("float32")
Y3 = RNG.random((8, 5, 2)).astype("float32")


def _temporal(mode="temporal"):
    model = Sequential([L.TimeDistributed(L.Dense(2), input_shape=(5, 3))])
    model.compile("sgd", "mse", sample_weight_mode=mode)
    return model


def test_timestep_weights_weigh_each_timestep():
    model = _temporal()
    weights = np.zeros((8, 5), dtype="float32")
    weights[:, 0] = 1.0                                      # only the first timestep counts
    pred = model.predict(X3, verbose=0)
    per_step = ((pred - Y3) ** 2).mean(axis=-1)              # (samples, timesteps)
    expected = (per_step * weights).mean()
    got = model.evaluate(X3, Y3, sample_weight=weights, batch_size=8, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got != pytest.approx(model.evaluate(X3, Y3, batch_size=8, verbose=0))
    model.fit(X3, Y3, sample_weight=weights, epochs=1, verbose=0)
    model.train_on_batch(X3, Y3, sample_weight=weights)


def test_temporal_checks_against_targets_and_weights():
    model = _temporal()
    with pytest.raises(ValueError, match="shape \\(8,\\); with sample_weight_mode='temporal' give a 2-D array"):
        model.fit(X3, Y3, sample_weight=np.ones(8), verbose=0)
    flat = Model(*(lambda a: (a, L.Dense(2)(a)))(L.Input((3,))))
    flat.compile("sgd", "mse", sample_weight_mode="temporal")
    with pytest.raises(ValueError, match="'temporal' needs targets of rank 3.*\\(8, 2\\)"):
        flat.train_on_batch(X3[:, 0], Y3[:, 0], sample_weight=np.ones(8))
    with pytest.raises(ValueError, match="'temporal' needs targets of rank 3"):
        flat.evaluate(X3[:, 0], Y3[:, 0], verbose=0)


def test_per_sample_mode_refuses_higher_rank_weights():
    flat = Sequential([L.Dense(2, input_dim=3)])
    flat.compile("sgd", "mse")
    with pytest.raises(ValueError, match="shape \\(8, 2\\) for targets of shape \\(8, 2\\).*1-D"):
        flat.train_on_batch(X3[:, 0], Y3[:, 0], sample_weight=np.ones((8, 2)))
    with pytest.raises(ValueError, match="does not fit targets"):
        _temporal(None).fit(X3, Y3, sample_weight=np.ones((8, 4)), verbose=0)
    flat.train_on_batch(X3[:, 0], Y3[:, 0], sample_weight=np.ones((8, 1)))   # (samples, 1) is per-sample


def test_modes_per_output_as_list_or_dict():
    names = ["a", "b"]
    assert sample_weight_modes(None, names) == [None, None]
    assert sample_weight_modes("temporal", names) == ["temporal", "temporal"]
    assert sample_weight_modes([None, "temporal"], names) == [None, "temporal"]
    assert sample_weight_modes({"a": "temporal", "b": None}, names) == ["temporal", None]
    with pytest.raises(ValueError, match="unknown outputs \\['c'\\]"):
        sample_weight_modes({"c": "temporal"}, names)
    with pytest.raises(ValueError, match="without an entry for the outputs \\['b'\\]"):
        sample_weight_modes({"a": "temporal"}, names)
    with pytest.raises(ValueError, match="has 1 entries but the model has 2 outputs"):
        sample_weight_modes(["temporal"], names)
    with pytest.raises(ValueError, match="must be None or 'temporal'.*'timewise'"):
        sample_weight_modes("timewise", names)


def test_multi_output_temporal_on_one_output():
    a = L.Input((5, 3), name="in")
    seq = L.TimeDistributed(L.Dense(2), name="seq")(a)
    last = L.Dense(1, name="last")(L.Flatten()(a))
    model = Model(a, [seq, last])
    model.compile("sgd", "mse", sample_weight_mode={"seq": "temporal", "last": None})
    model.fit(X3, [Y3, Y3[:, 0, :1]], sample_weight=[np.ones((8, 5)), np.ones(8)], verbose=0)
    with pytest.raises(ValueError, match="output 'seq'.*'temporal' give a 2-D array"):
        model.fit(X3, [Y3, Y3[:, 0, :1]], sample_weight={"seq": np.ones(8)}, verbose=0)


def test_mode_is_saved_with_the_compile_settings(tmp_path):
    import json

    import h5py

    from kerosene.models import load_model
    model = _temporal()
    model.save(str(tmp_path / "t.h5"))
    with h5py.File(str(tmp_path / "t.h5"), "r") as f:
        assert json.loads(f.attrs["training_config"])["sample_weight_mode"] == "temporal"
    loaded = load_model(str(tmp_path / "t.h5"))
    with pytest.raises(ValueError, match="'temporal' give a 2-D array"):
        loaded.fit(X3, Y3, sample_weight=np.ones(8), verbose=0)
