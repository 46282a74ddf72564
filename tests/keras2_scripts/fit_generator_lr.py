'''fit_generator with a Python generator and a callback that sets the learning rate with K.set_value.'''
import numpy as np
import kerosene
from kerosene import backend as K
from kerosene.callbacks import Callback
from kerosene.layers import Dense
from kerosene.models import Sequential
from kerosene.optimizers import SGD

rng = np.random.RandomState(5)
w = rng.rand(4, 1)


def batches(batch_size=16):
    while True:
        x = rng.rand(batch_size, 4).astype('float32')
        yield x, (x @ w).astype('float32')


class StepDecay(Callback):
    def __init__(self):
        super(StepDecay, self).__init__()
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch > 0 and epoch % 2 == 0:
            K.set_value(self.model.optimizer.lr, K.get_value(self.model.optimizer.lr) * 0.5)
        self.rates.append(K.get_value(self.model.optimizer.lr))


model = Sequential([Dense(1, input_dim=4)])
model.compile(optimizer=SGD(lr=0.1, momentum=0.9), loss='mse')
decay = StepDecay()
history = model.fit_generator(batches(), steps_per_epoch=20, epochs=5, callbacks=[decay], verbose=0,
                              validation_data=batches(), validation_steps=2)
test_loss = model.evaluate_generator(batches(), steps=3)
