"""Keras 2-style scripts (tests/keras2_scripts/) run with only the import changed.

Each runs in-process on small synthetic data and is checked for a sensible result.
"""
import os
import runpy

import numpy as np
import pytest

SCRIPTS = os.path.join(os.path.dirname(__file__), "keras2_scripts")


def run(name, capsys=None):
    return runpy.run_path(os.path.join(SCRIPTS, name), run_name="__main__")


def decreased(losses):
    return losses[-1] < losses[0]


def test_mnist_mlp(capsys):
    g = run("mnist_mlp.py")
    out = capsys.readouterr().out
    assert "Epoch 1/3" in out and "Test accuracy:" in out
    assert decreased(g["history"].history["loss"])
    assert isinstance(g["score"], list) and len(g["score"]) == 2 and g["score"][1] > 0.5


def test_imdb_lstm():
    g = run("imdb_lstm.py")
    assert g["x_train"].shape == (128, 12)
    assert decreased(g["history"].history["loss"]) and "val_loss" in g["history"].history
    assert 0.0 <= g["acc"] <= 1.0


def test_reuters_mlp():
    g = run("reuters_mlp.py")
    assert g["x_train"].shape == (240, 100)
    assert decreased(g["history"].history["loss"]) and g["score"][1] > 0.6
    assert g["classes"].shape == (5,)


def test_custom_layer_and_loss():
    g = run("custom_layer.py")
    assert decreased(g["history"].history["loss"])
    assert "mae" in g["history"].history
    assert [w.shape for w in g["model"].layers[0].get_weights()] == [(8, 16)]


def test_functional_two_inputs():
    g = run("functional_two_inputs.py")
    history = g["history"].history
    assert {"loss", "main_output_loss", "aux_output_loss", "main_output_accuracy",
            "aux_output_accuracy"} <= set(history)
    assert decreased(history["loss"])
    np.testing.assert_allclose(history["loss"][-1],
                               history["main_output_loss"][-1] + 0.2 * history["aux_output_loss"][-1],
                               rtol=1e-4)
    main, aux = g["predictions"]
    assert main.shape == (96, 1) and aux.shape == (96, 1)
    assert g["model"].output_names == ["main_output", "aux_output"]


def test_fit_generator_with_lr_callback():
    g = run("fit_generator_lr.py")
    assert g["decay"].rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert decreased(g["history"].history["loss"]) and "val_loss" in g["history"].history
    assert np.isscalar(g["test_loss"]) or np.ndim(g["test_loss"]) == 0


def test_vae_loss_from_symbolic_loss_functions():
    g = run("vae_add_loss.py")
    assert g["reconstruction_loss"].shape == (None,) and g["squared_error"].shape == (None,)
    assert decreased(g["history"].history["loss"])
    x = g["x_train"][:4]
    # the recorded losses compute what the functions compute on the model's values
    from kerosene.models import Model
    probe = Model(g["inputs"], [g["outputs"], g["squared_error"]])
    out, err = probe.predict(x)
    np.testing.assert_allclose(err, ((x - out) ** 2).mean(-1), rtol=1e-4, atol=1e-6)


def test_gan_discriminator_frozen_after_compile_still_trains_itself():
    g = run("gan_frozen_discriminator.py")
    assert all(g["d_changed"]) and all(g["g_changed"]) and all(g["d_kept_by_combined"])
    assert np.isfinite(g["d_losses"]).all() and np.isfinite(g["g_losses"]).all()
    assert g["discrepancy_warned"] and g["still_frozen"]


def test_input_tensor_of_variables_and_a_placeholder():
    g = run("input_tensor_style_loss.py")
    assert g["input_tensor"].shape == (3, 6, 7, 3) and g["layer_features"].shape == (3, 6, 7, 4)
    p = g["predicted"]
    np.testing.assert_allclose(g["loss_value"], ((p[2] - p[0]) ** 2).sum(), rtol=1e-4)
    assert g["grad_value"].shape == (1, 6, 7, 3) and np.abs(g["grad_value"]).sum() > 0


def test_input_tensor_must_be_symbolic_or_a_backend_tensor():
    from kerosene.layers import Input
    with pytest.raises(ValueError,
                       match=r"Input\(tensor=...\): `tensor` must be a symbolic tensor.*or a backend tensor.*ndarray"):
        Input(tensor=np.zeros((1, 3)))


def test_input_tensor_of_a_variable_is_a_fixed_value_of_the_graph():
    # Keras 2's neural doodle: a mask model on Input(tensor=K.variable(masks)), read by a loss
    from kerosene import backend as K
    from kerosene.layers import AveragePooling2D, Input
    from kerosene.models import Model
    masks = np.random.rand(2, 4, 6, 3).astype("float32")
    mask_input = Input(tensor=K.variable(masks), name="mask_input")
    pooled = AveragePooling2D(2)(mask_input)
    mask_model = Model(mask_input, pooled)
    assert mask_model.input_shape == (2, 4, 6, 3) and pooled.shape == (2, 2, 3, 3)
    image = K.placeholder((1, 2, 3, 3))
    loss = K.sum(image * pooled[0])
    value, grad = K.function([image], [loss, K.gradients(loss, image)[0]])([np.ones((1, 2, 3, 3), "float32")])
    want = masks[0].reshape(2, 2, 3, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(value, want.sum(), rtol=1e-5)
    np.testing.assert_allclose(grad[0], want, rtol=1e-5)
