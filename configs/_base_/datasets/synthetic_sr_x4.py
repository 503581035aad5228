# Synthetic HR images written by `python tools/make_synthetic_sr.py data/synthetic_sr`.
# LR is made on the fly: MATLAB-like bicubic x1/4 of the (cropped) HR image, rounded to uint8
# as a saved LR image would be (fdsr_mm BicubicDegradation), as in SR papers.
# Images load as RGB uint8; the model's DataPreprocessor maps them to RGB [0, 1].
scale = 4
data_root = 'data/synthetic_sr'
gt_patch_size = 64

train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb',
         imdecode_backend='cv2'),
    dict(type='Crop', keys=['gt'], crop_size=(gt_patch_size, gt_patch_size), random_crop=True),
    dict(type='BicubicDegradation', scale=scale),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb',
         imdecode_backend='cv2'),
    dict(type='SetValues', dictionary=dict(scale=scale)),
    dict(type='ModCrop', key='gt'),  # HR border pixels beyond a multiple of the scale
    dict(type='BicubicDegradation', scale=scale),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='BasicImageDataset', data_root=data_root, data_prefix=dict(gt='train'),
                 metainfo=dict(dataset_type='synthetic_sr', task_name='sisr'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='BasicImageDataset', data_root=data_root, data_prefix=dict(gt='val'),
                 metainfo=dict(dataset_type='synthetic_sr', task_name='sisr'),
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Evaluator', metrics=[
    dict(type='PSNR', crop_border=scale),
    dict(type='SSIM', crop_border=scale),
])
test_evaluator = val_evaluator
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
