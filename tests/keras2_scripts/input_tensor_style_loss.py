"""Keras 2's style-transfer recipe: two fixed images (variables) and a placeholder are
concatenated into one batch, a model is built on it with Input(tensor=...), and a loss on its
layers' outputs is differentiated with respect to the placeholder."""
import numpy as np

from kerosene import backend as K
from kerosene.layers import Conv2D, Input
from kerosene.models import Model

np.random.seed(0)
rows, cols = 6, 7
base = K.variable(np.random.rand(1, rows, cols, 3).astype("float32"))
style = K.variable(np.random.rand(1, rows, cols, 3).astype("float32"))
combination = K.placeholder((1, rows, cols, 3))
input_tensor = K.concatenate([base, style, combination], axis=0)

image = Input(tensor=input_tensor)
features = Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(image)
model = Model(image, features)
outputs = dict((layer.name, layer.output) for layer in model.layers)

layer_features = outputs["block1_conv1"]
loss = K.variable(0.)
loss += K.sum(K.square(layer_features[2, :, :, :] - layer_features[0, :, :, :]))
grads = K.gradients(loss, combination)
f_outputs = K.function([combination], [loss] + grads)

x = np.random.rand(1, rows, cols, 3).astype("float32")
loss_value, grad_value = f_outputs([x])
predicted = model.predict(np.concatenate([K.get_value(base), K.get_value(style), x]))
