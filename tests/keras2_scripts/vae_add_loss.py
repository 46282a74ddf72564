"""A Keras 2 variational autoencoder whose loss is built from symbolic tensors with
keras.losses functions and given to the model with add_loss (as in Keras 2's examples)."""
import numpy as np

from kerosene import backend as K
from kerosene.layers import Dense, Input, Lambda
from kerosene.losses import binary_crossentropy, mse
from kerosene.models import Model

np.random.seed(0)
original_dim, latent_dim = 16, 2
x_train = (np.random.rand(64, original_dim) > 0.5).astype("float32")


def sampling(args):
    z_mean, z_log_var = args
    epsilon = K.random_normal(shape=(K.shape(z_mean)[0], K.int_shape(z_mean)[1]))
    return z_mean + K.exp(0.5 * z_log_var) * epsilon


inputs = Input(shape=(original_dim,), name="encoder_input")
h = Dense(8, activation="relu")(inputs)
z_mean = Dense(latent_dim, name="z_mean")(h)
z_log_var = Dense(latent_dim, name="z_log_var")(h)
z = Lambda(sampling, output_shape=(latent_dim,), name="z")([z_mean, z_log_var])
outputs = Dense(original_dim, activation="sigmoid")(Dense(8, activation="relu")(z))
vae = Model(inputs, outputs, name="vae_mlp")

reconstruction_loss = binary_crossentropy(inputs, outputs) * original_dim
squared_error = mse(inputs, outputs)
kl_loss = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
vae.add_loss(K.mean(reconstruction_loss + kl_loss))
vae.compile(optimizer="adam")
history = vae.fit(x_train, epochs=5, batch_size=16, verbose=0)
