# Synthetic VOC-format detection data of the miniature study's Table 3 (tools/make_synthetic_voc.py,
# 300x300 JPEG, mmdet's VOC layout), an iteration-based schedule and the runtime, for small
# detectors trained from scratch on CPU. Detector configs add the model.
_base_ = ['mmdet::_base_/datasets/voc0712.py', 'mmdet::_base_/default_runtime.py']

custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)

data_root = 'data/synthetic_voc/'
# = fdsr_mm.datasets.SYNTHETIC_COCO_CLASSES (the XML <name>s).
metainfo = dict(classes=('striped', 'checkered', 'dotted', 'scribbled', 'ringed'))
num_classes = 5
ssd_input_size = 300
# The SR cascade (tools/cascade_eval.py) resizes HR test images to this (width, height) first, as
# in the paper's Table 3 (SSD300); the synthetic images already have this size.
cascade_hr_size = (ssd_input_size, ssd_input_size)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(ssd_input_size, ssd_input_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(ssd_input_size, ssd_input_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='VOCDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='VOC2007/ImageSets/Main/trainval.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmdet's VOC2007 metric: mAP at IoU 0.5, 11-point interpolation.
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points')
test_evaluator = val_evaluator

# Iteration-based schedule, AdamW. To shorten it, override train_cfg.max_iters,
# train_cfg.val_interval, param_scheduler.1.end and default_hooks.checkpoint.interval together.
max_iters = 1000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-5),
]
auto_scale_lr = dict(enable=False, base_batch_size=8)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=max_iters, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
