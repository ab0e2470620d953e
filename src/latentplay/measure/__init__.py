"""Measured attributes: head pose, skin tone (ITA), expression and image quality of every image
of a store, and the labels a classification network predicts for it.

>>> from latentplay import measure
>>> store = measure.measure_store("data/faces", ["pose", "skin", "quality"])
>>> store = measure.predict_store("data/faces", "onnx:fairface.onnx", "fairface7")
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.measure.expression import mouth as mouth
    from latentplay.measure.pose import head_pose as head_pose
    from latentplay.measure.predict import PRESETS as PRESETS
    from latentplay.measure.predict import Head as Head
    from latentplay.measure.predict import agreement_lines as agreement_lines
    from latentplay.measure.predict import parse_heads as parse_heads
    from latentplay.measure.predict import predict_store as predict_store
    from latentplay.measure.quality import QUALITY_NAMES as QUALITY_NAMES
    from latentplay.measure.quality import image_quality as image_quality
    from latentplay.measure.run import MEASURES as MEASURES
    from latentplay.measure.run import MeasureConfig as MeasureConfig
    from latentplay.measure.run import Measurer as Measurer
    from latentplay.measure.run import measure_store as measure_store
    from latentplay.measure.run import summary_lines as summary_lines
    from latentplay.measure.size import SIZE_NAMES as SIZE_NAMES
    from latentplay.measure.size import face_size as face_size
    from latentplay.measure.skin import ITA_GROUPS as ITA_GROUPS
    from latentplay.measure.skin import ita as ita
    from latentplay.measure.skin import ita_group as ita_group

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
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
