"""Interactive exploration: the clip scrubber (ipywidgets + anywidget) and its plain-array view.

Public face: :class:`ClipScrubber`, :class:`ContinuousPredictions`, :class:`QuadrantPredictions`,
:class:`ClipView`, :func:`clip_view`, :func:`render_png`.
"""

from mer_ser.widgets.scrubber import (
    ClipScrubber,
    ContinuousPredictions,
    QuadrantPredictions,
    ScrubberCanvas,
)
from mer_ser.widgets.view import (
    ClipView,
    Curve,
    QuadrantCurve,
    clip_base,
    clip_view,
    render_png,
    with_models,
)

__all__ = [
    "ClipScrubber",
    "ClipView",
    "ContinuousPredictions",
    "Curve",
    "QuadrantCurve",
    "QuadrantPredictions",
    "ScrubberCanvas",
    "clip_base",
    "clip_view",
    "render_png",
    "with_models",
]
