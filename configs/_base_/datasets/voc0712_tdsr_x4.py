# VOC07+12 trainval HR images with their boxes for task-driven SR (TDSR; FDSR paper Table 3):
# HR resized to 300x300 (bicubic, as the cascade's `cascade_hr_size` preparation), random
# horizontal flips applied to image and boxes together (mmdet's Resize/RandomFlip), LR 75x75 made
# from the flipped HR by the shared MATLAB-like bicubic x1/4 (DetImageToSRPair). Annotations are
# parsed by mmdet's VOCDataset with the filter of mmdet's ssd300_voc0712 training data; difficult
# boxes go to `ignored_instances`, the others to `gt_instances` (xyxy in the 300x300 HR pixels).
# mmdet loads BGR; DetImageToSRPair makes `gt`/`img` RGB uint8, so DataPreprocessor(mean 0,
# std 255) gives the generator RGB [0, 1] exactly as for the plain SR datasets.
# Validation: PSNR/SSIM of VOC2007 test resized to 300x300 (the Table 3 HR images), no flip.
# Data: data/VOCdevkit/VOC{2007,2012}/{JPEGImages,Annotations,ImageSets/Main/*.txt}.
scale = 4
hr_size = (300, 300)  # (width, height)
data_root = 'data/VOCdevkit/'
metainfo = dict(task_name='sisr')

train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.Resize', scale=hr_size, keep_ratio=False, interpolation='bicubic'),
    dict(type='mmdet.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='DetImageToSRPair', scale=scale),
    dict(type='PackSRDetInputs'),
]
test_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.Resize', scale=hr_size, keep_ratio=False, interpolation='bicubic'),
    dict(type='DetImageToSRPair', scale=scale),
    dict(type='PackSRDetInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        # VOCDataset writes a different `dataset_type` (VOC2007/VOC2012) into each metainfo.
        type='ConcatDataset', ignore_keys=['dataset_type'],
        datasets=[
            dict(type='SRDetectionDataset', metainfo=metainfo, pipeline=train_pipeline,
                 det_dataset=dict(type='VOCDataset', data_root=data_root,
                                  ann_file='VOC2007/ImageSets/Main/trainval.txt',
                                  data_prefix=dict(sub_data_root='VOC2007/'),
                                  filter_cfg=dict(filter_empty_gt=True, min_size=32))),
            dict(type='SRDetectionDataset', metainfo=metainfo, pipeline=train_pipeline,
                 det_dataset=dict(type='VOCDataset', data_root=data_root,
                                  ann_file='VOC2012/ImageSets/Main/trainval.txt',
                                  data_prefix=dict(sub_data_root='VOC2012/'),
                                  filter_cfg=dict(filter_empty_gt=True, min_size=32))),
        ]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SRDetectionDataset', metainfo=metainfo, pipeline=test_pipeline,
                 test_mode=True,
                 det_dataset=dict(type='VOCDataset', data_root=data_root,
                                  ann_file='VOC2007/ImageSets/Main/test.txt',
                                  data_prefix=dict(sub_data_root='VOC2007/'))))
test_dataloader = val_dataloader
val_evaluator = dict(type='Evaluator', metrics=[
    dict(type='PSNR', crop_border=scale),
    dict(type='SSIM', crop_border=scale),
])
test_evaluator = val_evaluator
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
