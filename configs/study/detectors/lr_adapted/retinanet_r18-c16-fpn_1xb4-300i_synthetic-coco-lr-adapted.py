# The adapted-detector control for the study's RetinaNet FPN: as
# faster-rcnn_r18-c16-fpn_1xb4-300i_synthetic-coco-lr-adapted.py (fine-tuned from the trained
# detector on images degraded x1/4 and upsampled back with the cascade's bicubic, 300 iterations at
# a tenth of the parent's peak lr); only the training pipeline and the schedule differ from the
# parent.
_base_ = ['../retinanet_r18-c16-fpn_1xb4-2000i_synthetic-coco.py']

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
