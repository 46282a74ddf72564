"""Reading CIFAR's pickled batches, from an archive whose hash matched the published one."""
import os

import numpy as np

from .. import backend
from . import _download
from ._safe_load import require_hash, unpickle_arrays


def fetch_folder(dirname, origin, file_hash):
    """The extracted folder of the CIFAR archive, verified against the published hash."""
    folder = _download.get_file(dirname, origin=origin, untar=True, file_hash=file_hash)
    require_hash(folder + ".tar.gz", file_hash, origin)
    return folder


def load_batch(path, label_key="labels"):
    """``(data, labels)`` of one batch file: data ``(n, 3, 32, 32)`` uint8, labels uint8."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CIFAR batch file {path} is missing; delete the folder so the archive is "
                                "extracted again")
    with open(path, "rb") as f:
        batch = unpickle_arrays(f, encoding="bytes")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch[label_key], dtype=np.uint8)
    return data, labels


def to_image_format(x):
    return x.transpose(0, 2, 3, 1) if backend.image_data_format() == "channels_last" else x
