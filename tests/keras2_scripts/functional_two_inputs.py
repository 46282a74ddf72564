'''Multi-input, multi-output functional model (Keras 2 guide style), with a shared layer.'''
import numpy as np
from kerosene.layers import Input, Embedding, LSTM, Dense, concatenate, Lambda
from kerosene.models import Model
from kerosene import backend as K

main_input = Input(shape=(10,), dtype='int32', name='main_input')
x = Embedding(output_dim=8, input_dim=50, input_length=10)(main_input)
lstm_out = LSTM(8)(x)
auxiliary_output = Dense(1, activation='sigmoid', name='aux_output')(lstm_out)

auxiliary_input = Input(shape=(5,), name='aux_input')
shared = Dense(8, activation='relu', name='shared')
scaled = Lambda(lambda t: t * 0.5)(auxiliary_input)
x = concatenate([lstm_out, shared(auxiliary_input), shared(scaled)])
x = Dense(16, activation='relu')(x)
main_output = Dense(1, activation='sigmoid', name='main_output')(x)

model = Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])
model.compile(optimizer='rmsprop', loss='binary_crossentropy',
              loss_weights=[1., 0.2], metrics=['accuracy'])

rng = np.random.RandomState(4)
headline_data = rng.randint(0, 50, (96, 10))
additional_data = rng.rand(96, 5).astype('float32')
labels = (additional_data.sum(axis=1) > 2.5).astype('float32')

history = model.fit([headline_data, additional_data], [labels, labels], epochs=4, batch_size=32, verbose=0)
history_dict = model.fit({'main_input': headline_data, 'aux_input': additional_data},
                         {'main_output': labels, 'aux_output': labels}, epochs=1, batch_size=32, verbose=0)
predictions = model.predict([headline_data, additional_data])
