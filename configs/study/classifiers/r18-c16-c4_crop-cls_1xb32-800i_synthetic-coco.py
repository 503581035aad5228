# Miniature study, Fig. 3 "classifier" prior (the paper's ImageNet classifier): the backbone of the
# C4 detector prior, trained from scratch to classify object crops of the synthetic train set
# (96x96 box crops with 10% context, fdsr_mm ObjectCropDataset), with global average pooling and a
# linear head. Its checkpoint keeps the detector's `backbone.*` keys, so DetectorFeatureLoss loads
# it with the C4 detector config. The detector config is the base only to read its backbone, input
# normalization, classes and data root; the study runtime (../_base_/runtime_adamw-1000i.py: AdamW,
# warm-up, cosine) comes through it (mmengine refuses the same keys from two bases), shortened
# here; the model, data and evaluator are replaced. Measured on the study data (5362 train / 1023
# val crops, one CPU core): 70.8% val top-1 (chance 20%) after 800 iterations, 80 s of CPU time.
_base_ = ['../detectors/faster-rcnn_r18-c16-c4_1xb4-1000i_synthetic-coco.py']

crop_size = 96
dataset_type = 'ObjectCropDataset'
model = dict(
    _delete_=True,
    type='CropClassifier',
    backbone=_base_.model.backbone,
    num_classes=_base_.num_classes,
    # The detector's normalization: the prior's weights see the input they were trained on.
    data_preprocessor=dict(type='ImgDataPreprocessor',
                           mean=_base_.model.data_preprocessor.mean,
                           std=_base_.model.data_preprocessor.std,
                           bgr_to_rgb=_base_.model.data_preprocessor.bgr_to_rgb))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CropObjectBox', margin=0.1),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackCropInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CropObjectBox', margin=0.1),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False),
    dict(type='PackCropInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(_delete_=True, type=dataset_type, data_root=_base_.data_root,
                 metainfo=_base_.metainfo, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    dataset=dict(_delete_=True, type=dataset_type, data_root=_base_.data_root,
                 metainfo=_base_.metainfo, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='CropAccuracy')
test_evaluator = val_evaluator

max_iters = 800
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(interval=max_iters, save_best=None))
auto_scale_lr = dict(base_batch_size=32)
