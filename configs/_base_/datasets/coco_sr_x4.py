# COCO HR images for x4 SR fine-tuning (the FDSR paper's setting): 20k random train2017 images
# whose sides are both > 384 px, listed one file name per line in `train_list` by
# `python tools/prepare_coco_sr.py data/coco`. LR is made on the fly by MATLAB-like bicubic x1/4
# of the cropped HR patch. Images load as RGB uint8; DataPreprocessor(mean 0, std 255) -> [0, 1].
# CheckedLoadImageFromFile (fdsr_mm) is MMagic's LoadImageFromFile naming a file it cannot decode.
scale = 4
data_root = 'data/coco'
train_list = 'annotations/fdsr_sr_train20k.txt'
val_list = 'annotations/fdsr_sr_val100.txt'
gt_patch_size = 160  # LR patches of 40x40, the DBPN authors' training patch size

train_pipeline = [
    dict(type='CheckedLoadImageFromFile', key='gt', color_type='color', channel_order='rgb',
         imdecode_backend='cv2'),
    dict(type='Crop', keys=['gt'], crop_size=(gt_patch_size, gt_patch_size), random_crop=True),
    dict(type='BicubicDegradation', scale=scale),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile', key='gt', color_type='color', channel_order='rgb',
         imdecode_backend='cv2'),
    dict(type='SetValues', dictionary=dict(scale=scale)),
    dict(type='ModCrop', key='gt'),  # HR border pixels beyond a multiple of the scale
    dict(type='BicubicDegradation', scale=scale),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='BasicImageDataset', data_root=data_root, ann_file=train_list,
                 data_prefix=dict(gt='train2017'),
                 metainfo=dict(dataset_type='coco_sr', task_name='sisr'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='BasicImageDataset', data_root=data_root, ann_file=val_list,
                 data_prefix=dict(gt='val2017'),
                 metainfo=dict(dataset_type='coco_sr', task_name='sisr'),
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Evaluator', metrics=[
    dict(type='PSNR', crop_border=scale),
    dict(type='SSIM', crop_border=scale),
])
test_evaluator = val_evaluator
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
