"""Measured attributes: head pose, skin tone (ITA), expression and image quality of every image
of a store, and the labels a classification network predicts for it.

>>> from latentplay import measure
>>> store = measure.measure_store("data/faces", ["pose", "skin", "quality"])
>>> store = measure.predict_store("data/faces", "onnx:fairface.onnx", "fairface7")
"""

from latentplay.lazy import lazy_exports

_EXPORTS = {
    "MEASURES": "run", "MeasureConfig": "run", "Measurer": "run", "measure_store": "run",
    "summary_lines": "run",
    "head_pose": "pose", "ITA_GROUPS": "skin", "ita": "skin", "ita_group": "skin",
    "QUALITY_NAMES": "quality", "image_quality": "quality", "mouth": "expression",
    "SIZE_NAMES": "size", "face_size": "size",
    "PRESETS": "predict", "Head": "predict", "parse_heads": "predict", "predict_store": "predict",
    "agreement_lines": "predict",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
