"""Faster R-CNN R50-FPN adapted to x4 low resolution: the control "adapt the detector instead of
super-resolving" at paper scale (COCO, x4).

mmdet's model-zoo detector (`../faster-rcnn_r50_fpn_1x_coco.py`, 37.4 box AP) fine-tuned on COCO
train2017 images degraded x1/4 with the cascade's operator (MATLAB-like bicubic) and upsampled back
with the cascade's bicubic before mmdet's own resize (`SimulateLowResolution`), for mmdet's 1x
schedule at a tenth of its lr (0.002, 8 GPUs x 2 images). Score it with
`tools/cascade_eval.py CONFIG CHECKPOINT --methods hr bicubic fdsr=...`: `bicubic` is the input it
was adapted to. Only the training pipeline, `load_from` and the lr differ from the parent
(tests/test_configs/test_lr_adapted_configs.py).
"""
_base_ = '../faster-rcnn_r50_fpn_1x_coco.py'

load_from = ('https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
             'faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='SimulateLowResolution', scale=4, degradation='bicubic'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.002))
