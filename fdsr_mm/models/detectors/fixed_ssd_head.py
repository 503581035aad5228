"""Workarounds for known MMDetection 3.3.0 bugs that the cascade's detectors hit.

* ``SSDHead`` never creates ``self.loss_cls`` (it skips ``AnchorHead.__init__``) but
  ``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls`` at inference, so every SSD
  prediction raises ``AttributeError: 'SSDHead' object has no attribute 'loss_cls'``
  (open-mmlab/mmdetection#11063, #11780; fix proposed in PR #11524, not in 3.3.0).
  :class:`FixedSSDHead` is ``SSDHead`` with ``loss_cls = None``: same parameters and checkpoint
  keys, softmax scores as intended (``use_sigmoid_cls=False``).
"""
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS


@MODELS.register_module()
class FixedSSDHead(SSDHead):
    """mmdet's :class:`SSDHead` (SSD, Liu et al., ECCV 2016) usable for inference in mmdet 3.3.0.

    Takes exactly ``SSDHead``'s arguments; see the module docstring for the bug it avoids.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_cls = None  # read (only) by BaseDenseHead._predict_by_feat_single
