"""SSD300 (MMDetection, VOC07+12) on VOC2007 test as the detector of the SR cascade (FDSR Table 3).

Paper setting: HR images are first resized to 300x300 (``cascade_hr_size``, read by
``tools/cascade_eval.py``; the ground-truth boxes are scaled with them), then x4 downsampled to
75x75, super-resolved back to 300x300 and detected; mAP is mmdet's VOCMetric (11-point, IoU 0.5,
difficult objects ignored). Model, test pipeline and metric are mmdet's ``ssd300_voc0712``.

Checkpoint: train with tools/train.py on this config or take ssd300_voc0712 from the MMDetection
model zoo, and pass its path. Data: data/VOCdevkit/VOC2007/{JPEGImages,Annotations,
ImageSets/Main/test.txt} (mmdet's layout); elsewhere: --data-root.
"""
_base_ = 'mmdet::pascal_voc/ssd300_voc0712.py'
custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)
default_scope = 'mmdet'
cascade_hr_size = (300, 300)  # (width, height) of the HR images of the protocol
# mmdet 3.3.0's SSDHead fails at inference (no loss_cls); same weights, see fdsr_mm.evaluation
model = dict(bbox_head=dict(type='FixedSSDHead'))
