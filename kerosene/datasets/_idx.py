"""Reading the IDX files MNIST and Fashion-MNIST are published in (optionally gzipped)."""
import gzip

import numpy as np

_MAGIC = {0x00000801: 1, 0x00000803: 3}


def read_idx(path):
    """A uint8 array from an IDX file (``.gz`` or raw): labels ``(n,)`` or images ``(n, rows, cols)``."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path} is not an IDX file: it is only {len(data)} bytes long")
    magic = int.from_bytes(data[:4], "big")
    if magic not in _MAGIC:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes: magic number {magic:#010x}, "
                         "expected 0x00000801 (labels) or 0x00000803 (images)")
    ndim = _MAGIC[magic]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise ValueError(f"{path} is truncated or corrupt: its header announces {dims} "
                         f"({expected} bytes), it holds {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()
