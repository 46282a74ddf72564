'''Trains a simple deep NN on MNIST-shaped data (Keras 2 example style; synthetic digits).'''
from __future__ import print_function

import numpy as np
import kerosene as keras
from kerosene.models import Sequential
from kerosene.layers import Dense, Dropout
from kerosene.optimizers import RMSprop

batch_size = 32
num_classes = 10
epochs = 3

rng = np.random.RandomState(0)
y_train = rng.randint(0, num_classes, 300)
y_test = rng.randint(0, num_classes, 100)
centers = rng.rand(num_classes, 784)
x_train = centers[y_train] + 0.3 * rng.rand(300, 784)
x_test = centers[y_test] + 0.3 * rng.rand(100, 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
print(x_train.shape[0], 'train samples')

y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(64, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(64, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
