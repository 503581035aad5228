# Synthetic COCO-format detection data of the miniature study (tools/make_synthetic_coco.py),
# an iteration-based schedule and the runtime, for small detectors trained from scratch on CPU.
# Detector configs combine this file with an mmdet model base (`mmdet::_base_/models/...`).
_base_ = ['mmdet::_base_/datasets/coco_detection.py', 'mmdet::_base_/default_runtime.py']

custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)

data_root = 'data/synthetic_coco/'
# = fdsr_mm.datasets.SYNTHETIC_COCO_CLASSES (json category ids 1..5 in this order).
metainfo = dict(classes=('striped', 'checkered', 'dotted', 'scribbled', 'ringed'))
num_classes = 5

# The images (256x256 RGB PNG by default) are used at their own size: boxes of images
# super-resolved to the HR size need no remapping.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale_factor=1.0),  # identity; records the scale_factor mmdet needs
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    batch_sampler=None,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

# Iteration-based schedule, AdamW (trains from scratch faster than SGD in a few hundred steps).
# To shorten it (e.g. a quick run), override train_cfg.max_iters, train_cfg.val_interval,
# param_scheduler.1.end and default_hooks.checkpoint.interval together.
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
auto_scale_lr = dict(enable=False, base_batch_size=4)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=max_iters, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
