"""Models rebuilt from the JSON or YAML text of ``model.to_json()`` / ``model.to_yaml()``
(Keras 2's ``model_from_json``, ``model_from_yaml``).

    twin = model_from_json(model.to_json())     # same layers, new weights

Nothing in the text is executed: class names resolve only to kerosene's, registered
and ``custom_objects`` classes. YAML needs PyYAML (``pip install pyyaml``).
"""
from __future__ import annotations

import json

from .config import model_from_config

__all__ = ["model_from_json", "model_from_yaml"]


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from :func:`model_to_json`'s text or Keras 2's."""
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json: `json_string` must be a str, got {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except ValueError as err:
        raise ValueError(f"model_from_json: `json_string` is not valid JSON ({err})") from None
    return model_from_config(config, custom_objects=custom_objects)


def _yaml():
    try:
        import yaml  # optional: only YAML users need PyYAML
    except ImportError:
        raise ImportError("YAML model configs need PyYAML: pip install pyyaml (or use to_json / "
                          "model_from_json)") from None
    return yaml


def model_from_yaml(yaml_string, custom_objects=None):
    """A new model from :func:`model_to_yaml`'s text; read with ``yaml.safe_load`` (no code runs)."""
    if not isinstance(yaml_string, (str, bytes)):
        raise TypeError(f"model_from_yaml: `yaml_string` must be a str, got {type(yaml_string).__name__}")
    return model_from_config(_yaml().safe_load(yaml_string), custom_objects=custom_objects)
