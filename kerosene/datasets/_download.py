"""Where the datasets come from and how they reach Keras's cache.

Every loader fetches through :func:`kerosene.utils.get_file` into
``$KERAS_HOME/datasets`` (``~/.keras/datasets``), with the published hash.
``ORIGIN_FOLDER`` is the folder the Keras datasets are published in; point it at a
mirror (or a test server) to fetch from elsewhere.
"""
from ..utils.data_utils import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def fetch(fname, remote_name, file_hash, cache_subdir="datasets", origin=None, untar=False):
    """The local path of a dataset file: the cached copy, or a fresh verified download."""
    return get_file(fname, origin=origin or ORIGIN_FOLDER + remote_name, file_hash=file_hash,
                    cache_subdir=cache_subdir, untar=untar)


def origin_of(remote_name):
    return ORIGIN_FOLDER + remote_name
