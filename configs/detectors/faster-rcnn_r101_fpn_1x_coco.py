"""Faster R-CNN R101-FPN (MMDetection, COCO 1x, 39.4 box AP on val2017) as the detector of the SR cascade.

Paper setting: FDSR Tables 1-2, COCO val2017, x4. The model, test pipeline and CocoMetric are
mmdet's unchanged; `tools/cascade_eval.py` replaces only the image loader (SR images from its
cache) and the annotation file (the same annotations, restricted and clipped to the evaluated,
mod-cropped images).

Checkpoint (pass its path to tools/cascade_eval.py):
    https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_1x_coco/faster_rcnn_r101_fpn_1x_coco_20200130-f513f705.pth
Data: data/coco/annotations/instances_val2017.json and data/coco/val2017/ (mmdet's layout);
elsewhere: --data-root, --ann-file, --img-prefix.
"""
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py'
custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)
default_scope = 'mmdet'
