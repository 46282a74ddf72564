"""Keras 2's GAN recipe (mnist_acgan, dcgan scripts): the discriminator is compiled, then frozen
with ``trainable = False`` before the combined model is compiled. Its own train_on_batch still
updates it (the weights it collected at compile); the combined model's leaves it alone."""
import warnings

import numpy as np

from kerosene.layers import Dense, Input
from kerosene.models import Model, Sequential
from kerosene.optimizers import Adam

np.random.seed(0)
latent_dim, data_dim = 4, 6

discriminator = Sequential([Dense(8, activation="relu", input_shape=(data_dim,)), Dense(1, activation="sigmoid")])
discriminator.compile(optimizer=Adam(lr=0.01), loss="binary_crossentropy")
generator = Sequential([Dense(8, activation="relu", input_shape=(latent_dim,)), Dense(data_dim)])

latent = Input(shape=(latent_dim,))
discriminator.trainable = False
combined = Model(latent, discriminator(generator(latent)))
combined.compile(optimizer=Adam(lr=0.01), loss="binary_crossentropy")

real = np.random.normal(2.0, 0.5, (32, data_dim)).astype("float32")
d_losses, g_losses = [], []
d_changed, g_changed, d_kept_by_combined = [], [], []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for step in range(20):
        noise = np.random.normal(size=(32, latent_dim)).astype("float32")
        fake = generator.predict(noise)
        x = np.concatenate([real, fake])
        y = np.array([1] * 32 + [0] * 32)
        before = discriminator.get_weights()
        d_losses.append(discriminator.train_on_batch(x, y))
        d_changed.append(any(np.abs(a - b).max() > 0 for a, b in zip(before, discriminator.get_weights())))
        before_d, before_g = discriminator.get_weights(), generator.get_weights()
        g_losses.append(combined.train_on_batch(noise, np.ones(32)))
        g_changed.append(any(np.abs(a - b).max() > 0 for a, b in zip(before_g, generator.get_weights())))
        d_kept_by_combined.append(all(np.array_equal(a, b) for a, b in zip(before_d, discriminator.get_weights())))
discrepancy_warned = any("Discrepancy" in str(w.message) for w in caught)
still_frozen = not any(p.requires_grad for p in discriminator.parameters())
