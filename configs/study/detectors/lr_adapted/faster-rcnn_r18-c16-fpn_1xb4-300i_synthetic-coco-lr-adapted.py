# The adapted-detector control of the miniature study ("adapt the detector to low resolution
# instead of super-resolving?"): the study's Faster R-CNN FPN fine-tuned from its trained weights
# (`load_from`, set by the study) on training images degraded x1/4 and upsampled back with the
# cascade's bicubic (SimulateLowResolution), for the SR fine-tunes' budget: 300 iterations at a
# constant lr (a tenth of the parent's peak). Scored in the cascade with `bicubic` input (what it
# was adapted to) and with FDSR input. Only the training pipeline and the schedule differ from the
# parent (tests/test_configs/test_lr_adapted_configs.py).
_base_ = ['../faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='SimulateLowResolution', scale=4, degradation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
