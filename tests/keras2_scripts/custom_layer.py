'''A custom layer and a custom loss written with backend ops (Keras 2 "Writing your own layer").'''
import numpy as np
from kerosene import backend as K
from kerosene.layers import Layer, Dense
from kerosene.models import Sequential


class MyLayer(Layer):

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super(MyLayer, self).__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(name='kernel',
                                      shape=(input_shape[1], self.output_dim),
                                      initializer='uniform',
                                      trainable=True)
        super(MyLayer, self).build(input_shape)

    def call(self, x):
        return K.relu(K.dot(x, self.kernel))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)


def rmse(y_true, y_pred):
    return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))


rng = np.random.RandomState(3)
x = rng.rand(256, 8).astype('float32')
y = (x @ rng.rand(8, 1)).astype('float32')

model = Sequential()
model.add(MyLayer(16, input_shape=(8,)))
model.add(Dense(1))
model.compile(optimizer='adam', loss=rmse, metrics=['mae'])
history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
print(history.history['loss'])
