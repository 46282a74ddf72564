'''Trains and evaluates a simple MLP on a Reuters-style topic task (Tokenizer matrices).'''
from __future__ import print_function

import numpy as np
import kerosene
from kerosene.models import Sequential
from kerosene.layers import Dense, Dropout, Activation
from kerosene.preprocessing.text import Tokenizer

max_words = 100
batch_size = 16
epochs = 5

rng = np.random.RandomState(2)
num_classes = 3
topic_words = [list(range(4 + 10 * c, 14 + 10 * c)) for c in range(num_classes)]
y_train = rng.randint(0, num_classes, 240)
x_train = [list(rng.choice(topic_words[y], 6)) + list(rng.randint(40, 99, 6)) for y in y_train]

print('Vectorizing sequence data...')
tokenizer = Tokenizer(num_words=max_words)
x_train = tokenizer.sequences_to_matrix(x_train, mode='binary')
print('x_train shape:', x_train.shape)

y_train = kerosene.utils.to_categorical(y_train, num_classes)

model = Sequential()
model.add(Dense(64, input_shape=(max_words,)))
model.add(Activation('relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes))
model.add(Activation('softmax'))

model.compile(loss='categorical_crossentropy',
              optimizer='adam',
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_split=0.1)
score = model.evaluate(x_train, y_train, batch_size=batch_size, verbose=1)
classes = model.predict_classes(x_train[:5])
