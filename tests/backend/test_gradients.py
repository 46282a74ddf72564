"""K.gradients: Keras 2's saliency and grad-CAM recipes through K.function, against torch.autograd."""
import numpy as np
import pytest
import torch

from kerosene import backend as K
from kerosene.layers import Conv2D, Dense, GlobalAveragePooling2D, Input
from kerosene.models import Model

RNG = np.random.default_rng(2)


def small_cnn():
    inp = Input(shape=(6, 6, 2))
    conv = Conv2D(3, 3, padding="same", activation="relu", name="conv")(inp)
    out = Dense(4, activation="softmax", name="probs")(GlobalAveragePooling2D()(conv))
    return Model(inp, out)


def test_gradients_of_real_tensors_are_autograds():
    x = torch.tensor(RNG.normal(size=(3, 2)).astype("float32"), requires_grad=True)
    w = torch.tensor(RNG.normal(size=(2,)).astype("float32"), requires_grad=True)
    unused = torch.ones(2, requires_grad=True)
    loss = (x * w).sum(dim=1) ** 2          # not a scalar: the sum's gradient, as TensorFlow's
    gx, gw, gu = K.gradients(loss, [x, w, unused])
    ref_x, ref_w = torch.autograd.grad(loss.sum(), [x, w], retain_graph=True)
    np.testing.assert_allclose(gx.detach(), ref_x, rtol=1e-6)
    np.testing.assert_allclose(gw.detach(), ref_w, rtol=1e-6)
    assert torch.equal(gu, torch.zeros(2))
    # create_graph: a gradient of the gradient
    (second,) = K.gradients(K.sum(gw), [w])
    expected = (2 * x.detach().sum(dim=1, keepdim=True) * x.detach()).sum(dim=0)
    np.testing.assert_allclose(second.detach(), expected, rtol=1e-5)


def test_saliency_recipe_matches_autograd():
    model = small_cnn()
    loss = model.output[:, 1]
    grads = K.gradients(loss, model.input)[0]
    assert K.int_shape(grads) == (None, 6, 6, 2)
    f = K.function([model.input], [loss, grads])
    x = RNG.random((2, 6, 6, 2)).astype("float32")
    got_loss, got_grads = f([x])
    xt = torch.tensor(x, requires_grad=True)
    out = model(xt)[:, 1]
    (ref,) = torch.autograd.grad(out.sum(), xt)
    np.testing.assert_allclose(got_loss, out.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(got_grads, ref.numpy(), rtol=1e-4, atol=1e-7)
    assert np.abs(got_grads).sum() > 0


def test_grad_cam_recipe_matches_a_hand_computed_reference():
    model = small_cnn()
    conv_output = model.get_layer("conv").output
    grads = K.gradients(model.output[:, 2], conv_output)[0]
    pooled = K.mean(grads, axis=(0, 1, 2))
    iterate = K.function([model.input], [pooled, conv_output[0]])
    x = RNG.random((1, 6, 6, 2)).astype("float32")
    got_pooled, got_maps = iterate([x])
    # d probs[2] / d conv: through the global average pool (1/36 per position) and the softmax Dense.
    with torch.no_grad():
        maps = model.get_layer("conv")(torch.tensor(x))
        probs = model(torch.tensor(x))[0].numpy()
    kernel = model.get_layer("probs").get_weights()[0]            # Keras layout (3, 4)
    dsoftmax = probs[2] * ((np.arange(4) == 2) - probs)           # d p_2 / d logits
    d_pooled_features = kernel @ dsoftmax                         # (3,)
    per_position = np.broadcast_to(d_pooled_features / 36.0, (6, 6, 3))
    np.testing.assert_allclose(got_maps, maps[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(got_pooled, per_position.mean(axis=(0, 1)), rtol=1e-4, atol=1e-8)


def test_filter_visualization_recipe_gradient_ascent():
    # Keras 2's conv_filter_visualization: normalized gradients of one filter's mean activation.
    model = small_cnn()
    input_img = model.input
    layer_output = model.get_layer("conv").output
    loss = K.mean(layer_output[:, :, :, 1])
    grads = K.gradients(loss, input_img)[0]
    grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    iterate = K.function([input_img], [loss, grads])
    x = RNG.random((1, 6, 6, 2)).astype("float32")
    loss_value, grads_value = iterate([x])
    xt = torch.tensor(x, requires_grad=True)
    ref_loss = model.get_layer("conv")(xt)[..., 1].mean()
    (ref,) = torch.autograd.grad(ref_loss, xt)
    ref = ref / (ref.pow(2).mean().sqrt() + 1e-5)
    np.testing.assert_allclose(loss_value, ref_loss.item(), rtol=1e-5)
    np.testing.assert_allclose(grads_value, ref.numpy(), rtol=1e-4, atol=1e-6)
    for _ in range(3):
        x = x + grads_value * 0.1
        new_loss, grads_value = iterate([x])
    assert new_loss >= loss_value


def test_gradients_wrt_weights_through_function():
    model = small_cnn()
    grads = K.gradients(K.mean(model.output[:, 0]), model.trainable_weights)
    assert [K.int_shape(g) for g in grads] == [tuple(w.shape) for w in model.trainable_weights]
    x = RNG.random((3, 6, 6, 2)).astype("float32")
    got = K.function([model.input], grads)([x])
    model.zero_grad()
    model(torch.tensor(x))[:, 0].mean().backward()
    for value, weight in zip(got, model.trainable_weights):
        np.testing.assert_allclose(value, weight.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_function_without_gradients_still_runs_without_tracking():
    model = small_cnn()
    f = K.function([model.input], [model.output])
    assert not f._needs_grad
    assert f([np.zeros((1, 6, 6, 2), "float32")])[0].shape == (1, 4)


@pytest.mark.parametrize("call,match", [
    (lambda: K.gradients(torch.ones(2, requires_grad=True).sum(), []), r"gradients: `variables` is empty"),
    (lambda: K.gradients(torch.ones(1), ["w"]), r"gradients: each of `variables` must be a tensor.*'w'"),
    (lambda: K.gradients(torch.ones(1), [Input(shape=(2,))]), r"gradients: `loss` is a real tensor"),
    (lambda: K.gradients(3.0, [torch.ones(1)]), r"gradients: `loss` must be a tensor, got float"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
