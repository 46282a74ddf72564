"""RemoteMonitor: POST each epoch's logs to an HTTP server, with the standard library."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from .._user_warning import warn_user
from .. import distributed
from .base import Callback
from .monitor import check_number

__all__ = ["RemoteMonitor"]


class RemoteMonitor(Callback):
    """Send ``{'epoch': epoch, **logs}`` to ``root + path`` at the end of every epoch.

    With ``send_as_json=False`` (the default) the payload goes form-encoded as one field,
    ``field=<json text>``; with ``send_as_json=True`` it is the JSON body of the POST.
    ``headers`` are added to the request. A server that is down, answers with an
    error status or does not answer within ``timeout`` seconds draws a warning; training
    goes on, and a dead server costs each epoch at most ``timeout`` seconds. Only the
    main process sends.

    Example::

        monitor = RemoteMonitor(root='http://localhost:9000', timeout=2.0)
        model.fit(x, y, epochs=10, callbacks=[monitor])
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False, timeout=5.0):
        super().__init__()
        if not isinstance(root, str) or urllib.parse.urlsplit(root).scheme not in ("http", "https"):
            raise ValueError(f"RemoteMonitor `root` must be an http:// or https:// URL, got {root!r}")
        if not isinstance(path, str):
            raise TypeError(f"RemoteMonitor `path` must be a str, got {type(path).__name__} {path!r}")
        if not isinstance(field, str) or not field:
            raise ValueError(f"RemoteMonitor `field` must be a non-empty str, got {field!r}")
        if headers is not None and not (isinstance(headers, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise TypeError(f"RemoteMonitor `headers` must be a dict of str to str or None, got {headers!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = dict(headers or {})
        self.send_as_json = bool(send_as_json)
        timeout = check_number("timeout", timeout, "RemoteMonitor")
        if timeout <= 0:
            raise ValueError(f"RemoteMonitor `timeout` must be a number of seconds > 0, got {timeout!r}")
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        if not distributed.is_main_process():
            return
        payload = {"epoch": epoch}
        for key, value in (logs or {}).items():
            payload[key] = _plain(value)
        headers = dict(self.headers)
        if self.send_as_json:
            body = json.dumps(payload).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(payload)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            warn_user(f"Warning: RemoteMonitor root server at {self.root} answered {exc.code} {exc.reason}",
                      RuntimeWarning)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            warn_user(f"Warning: could not reach RemoteMonitor root server at {self.root} ({reason})",
                      RuntimeWarning)


def _plain(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
