"""Keras 2's ``keras.engine.saving``: where Keras 2 code imports saving functions from.

    from kerosene.engine.saving import save_model, load_model, preprocess_weights_for_loading
    save_model(model, 'model.h5')
    model = load_model('model.h5')
"""
from ..saving import load_model, model_from_config, save_model
from ..saving.architecture import model_from_json, model_from_yaml
from ..saving.keras2_conversion import preprocess_weights_for_loading

__all__ = ["save_model", "load_model", "model_from_config", "model_from_json", "model_from_yaml",
           "preprocess_weights_for_loading"]
