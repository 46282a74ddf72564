import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

# The tests train tiny models; on a shared 2-core machine intra-op threads make those
# several times slower, not faster. Subprocess tests set their own thread counts.
torch.set_num_threads(1)


@pytest.fixture
def seeded():
    torch.manual_seed(0)
    np.random.seed(0)
    return 0


@pytest.fixture
def blobs():
    """A small learnable 3-class problem: (x, one-hot y, integer labels)."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 20)).astype("float32") * 3
    labels = rng.integers(0, 3, size=300)
    x = (centers[labels] + rng.normal(size=(300, 20))).astype("float32")
    y = np.eye(3, dtype="float32")[labels]
    return x, y, labels
