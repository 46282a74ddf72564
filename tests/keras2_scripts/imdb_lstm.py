'''Trains an LSTM on IMDB-style sequences (Keras 2 example style; synthetic reviews).'''
from __future__ import print_function

import numpy as np
from kerosene.preprocessing import sequence
from kerosene.models import Sequential
from kerosene.layers import Dense, Embedding
from kerosene.layers import LSTM

max_features = 200
maxlen = 12
batch_size = 32

rng = np.random.RandomState(1)


def review(label):
    words = list(rng.randint(3, max_features, rng.randint(4, 15)))
    marker = 1 if label else 2
    return words + [marker] * 3


y_train = rng.randint(0, 2, 128)
x_train = [review(l) for l in y_train]
print(len(x_train), 'train sequences')
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
print('x_train shape:', x_train.shape)

model = Sequential()
model.add(Embedding(max_features, 16))
model.add(LSTM(16, dropout=0.2, recurrent_dropout=0.2))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='adam',
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=3,
                    validation_split=0.2, verbose=2)
score, acc = model.evaluate(x_train, y_train, batch_size=batch_size, verbose=0)
print('Train score:', score)
print('Train accuracy:', acc)
