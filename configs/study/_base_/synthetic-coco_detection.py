# Synthetic COCO-format detection data of the miniature study (tools/make_synthetic_coco.py),
# with the runtime and schedule of runtime_adamw-1000i.py, for small detectors trained from scratch.
# Detector configs combine this file with an mmdet model base (`mmdet::_base_/models/...`).
_base_ = ['mmdet::_base_/datasets/coco_detection.py', './runtime_adamw-1000i.py']

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

auto_scale_lr = dict(enable=False, base_batch_size=4)
