# Runtime shared by every fdsr_mm SR config: MMagic scope, fdsr_mm registered on import,
# iteration-based logging and checkpointing.
default_scope = 'mmagic'
custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=5000, by_epoch=False, save_optimizer=True,
                    max_keep_ckpts=10),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Stop at the first NaN/Inf loss and never write NaN/Inf weights (fdsr_mm/engine/hooks/), so that
# last_checkpoint always names a finite checkpoint to resume from.
custom_hooks = [dict(type='NonFiniteLossHook')]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=100, by_epoch=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ConcatImageVisualizer', vis_backends=vis_backends, fn_key='gt_path',
                  img_keys=['gt_img', 'input', 'pred_img'], bgr2rgb=True)
load_from = None
resume = False
