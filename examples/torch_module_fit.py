"""A plain PyTorch model, trained with Keras's fit and callbacks.

`DigitsNet` is an ordinary `torch.nn.Module` (channels-first convolutions, as torch
expects); nothing in it knows about kerosene. Wrapping it in `kerosene.Sequential`
gives it compile/fit/evaluate/predict, the progress bar and callbacks, and the data
comes from a torch DataLoader. The optimizer and the loss are torch's own.

    python examples/torch_module_fit.py
"""
import os

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerosene
from kerosene.callbacks import EarlyStopping, LearningRateScheduler
from kerosene.datasets import digits

EPOCHS = int(os.environ.get("KEROSENE_EXAMPLE_EPOCHS", 20))
OUT = os.environ.get("KEROSENE_EXAMPLE_DIR", ".")


class DigitsNet(nn.Module):
    """8x8 grey images (batch, 1, 8, 8) -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, images):
        return self.classifier(self.features(images))


def loader(images, labels, shuffle):
    tensors = TensorDataset(torch.from_numpy(images[:, None].astype("float32") / digits.MAX_PIXEL),
                            torch.from_numpy(labels.astype("int64")))
    return DataLoader(tensors, batch_size=64, shuffle=shuffle)


if __name__ == "__main__":
    torch.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    cut = int(len(x_train) * 0.8)
    train, val, test = loader(x_train[:cut], y_train[:cut], True), loader(x_train[cut:], y_train[cut:], False), \
        loader(x_test, y_test, False)

    net = DigitsNet()
    model = kerosene.Sequential([net], name="digits_net")
    model.compile(optimizer=torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                  loss=nn.CrossEntropyLoss(),                       # logits and integer labels, torch style
                  metrics=["sparse_categorical_accuracy"])
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(model.optimizer, T_max=EPOCHS)
    history = model.fit(train, validation_data=val, epochs=EPOCHS, verbose=2,
                        callbacks=[LearningRateScheduler(cosine),
                                   EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)])
    loss, accuracy = model.evaluate(test, verbose=0)
    print(f"test accuracy {accuracy:.2%} after {len(history.epoch)} epochs")

    # The trained weights live in the plain module: use it without kerosene.
    net.eval()
    with torch.no_grad():
        predicted = net(next(iter(test))[0]).argmax(dim=1)
    print("first test predictions:", predicted[:10].tolist())
    torch.save(net.state_dict(), os.path.join(OUT, "digits_net.pt"))
