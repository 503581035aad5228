# SR4IR shrunk for CPU smoke runs (`mim train fdsr_mm` this file): a 2-block, 16-channel EDSR
# (random init) and the miniature study's small Faster R-CNN (random init unless
# model.detector.checkpoint is set), on the synthetic COCO-format set of
# `python tools/make_synthetic_coco.py data/synthetic_coco` (HR 256x256, LR 64x64), 20 iterations
# with the TDP term from iteration 10, at constant learning rates.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic-coco_tdsr_x4.py',
          '../_base_/models/sr4ir_edsr-x4_faster-rcnn-r50-fpn.py']

model = dict(
    generator=dict(mid_channels=16, num_blocks=2),
    detector=dict(
        config='fdsr_mm::study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py'),
    tdp_start_iter=10)
optim_wrapper = dict(generator=dict(optimizer=dict(lr=1e-3)),
                     detector=dict(optimizer=dict(lr=2e-3)))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20, val_interval=20)
param_scheduler = []
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=20, max_keep_ckpts=2))
