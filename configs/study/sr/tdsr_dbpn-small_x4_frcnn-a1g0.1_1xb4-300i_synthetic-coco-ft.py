# Benchmark study (issue 21), transfer matrix: TDSR through the study's Faster R-CNN FPN. The
# pre-trained small DBPN (tools/run_study.py sets load_from) fine-tuned with alpha 1, gamma 0.1
# through the frozen trained detector (detector_config/checkpoint set by tools/run_study.py), on
# the synthetic COCO train images at their own size with their boxes (LR 64x64, flips), for the
# SR fine-tunes' 300 iterations at their constant lr 1e-3.
_base_ = ['../../_base_/default_runtime.py', '../../_base_/datasets/synthetic-coco_tdsr_x4.py',
          '../../_base_/schedules/adam-lr3e-3_200i.py',
          '../../_base_/models/tdsr_ddbpn-x4_ssd300-voc0712.py']

model = dict(
    generator=dict(mid_channels=32, base_channels=16, num_stages=2, bicubic_residual=True,
                   init_cfg=None),
    task_loss=dict(
        detector_config='fdsr_mm::study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py',
        checkpoint=None))
train_cfg = dict(max_iters=300, val_interval=300)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(milestones=[])
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300, max_keep_ckpts=1))
