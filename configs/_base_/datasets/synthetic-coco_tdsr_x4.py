# HR images with their boxes for task-driven SR on the miniature study's synthetic COCO-format
# set (python tools/make_synthetic_coco.py data/synthetic_coco): the images at their own size
# (256x256, as the study's cascade scores them; multiples of 4), random horizontal flips of image
# and boxes (mmdet's RandomFlip), LR 64x64 by the shared bicubic x1/4 (DetImageToSRPair). Labels
# are 0-based indices of the five synthetic classes. Validation: PSNR/SSIM of the val images.
_base_ = ['./voc0712_tdsr_x4.py']

data_root = 'data/synthetic_coco/'
classes = ('striped', 'checkered', 'dotted', 'scribbled', 'ringed')  # SYNTHETIC_COCO_CLASSES
metainfo = dict(task_name='sisr')
train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='DetImageToSRPair', scale={{_base_.scale}}),
    dict(type='PackSRDetInputs'),
]
test_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='DetImageToSRPair', scale={{_base_.scale}}),
    dict(type='PackSRDetInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(
        _delete_=True, type='SRDetectionDataset', metainfo=metainfo, pipeline=train_pipeline,
        det_dataset=dict(type='CocoDataset', data_root=data_root, metainfo=dict(classes=classes),
                         ann_file='annotations/instances_train.json',
                         data_prefix=dict(img='train/'),
                         filter_cfg=dict(filter_empty_gt=True, min_size=4))))
val_dataloader = dict(
    num_workers=0,
    dataset=dict(
        pipeline=test_pipeline,
        det_dataset=dict(_delete_=True, type='CocoDataset', data_root=data_root,
                         metainfo=dict(classes=classes),
                         ann_file='annotations/instances_val.json',
                         data_prefix=dict(img='val/'))))
test_dataloader = val_dataloader
