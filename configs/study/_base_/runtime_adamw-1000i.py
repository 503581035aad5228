# mmdet's runtime with the study detectors' schedule: 1000 iterations of AdamW (trains from
# scratch faster than SGD in a few hundred steps), 100-iteration warm-up, cosine decay, one
# checkpoint at the end. To shorten it (e.g. a quick run), override train_cfg.max_iters,
# train_cfg.val_interval, param_scheduler.1.end and default_hooks.checkpoint.interval together.
_base_ = ['mmdet::_base_/default_runtime.py']

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
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=max_iters, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
