# Synthetic VOC-format detection data of the miniature study's Table 3 (tools/make_synthetic_voc.py,
# 300x300 JPEG, mmdet's VOC layout), an iteration-based schedule and the runtime, for small
# detectors trained from scratch on CPU. Detector configs add the model.
_base_ = ['mmdet::_base_/datasets/voc0712.py', './runtime_adamw-1000i.py']

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

auto_scale_lr = dict(enable=False, base_batch_size=8)
