# Miniature study, Table 3: TDSR. The pre-trained small DBPN (tools/run_study.py sets load_from)
# fine-tuned with the TDSR model of the paper config (alpha 1, beta 0, gamma 0.1) through the
# study's frozen SSD (detector_config/checkpoint set by tools/run_study.py), on the synthetic VOC
# trainval images with their boxes (HR 300x300, LR 75x75, flips), for the same 300 iterations at
# the same constant lr 1e-3 as the DBPN/FDSR fine-tunes.
_base_ = ['../../_base_/default_runtime.py', '../../_base_/datasets/synthetic-voc_tdsr_x4.py',
          '../../_base_/schedules/adam-lr3e-3_200i.py',
          '../../_base_/models/tdsr_ddbpn-x4_ssd300-voc0712.py']

model = dict(
    generator=dict(mid_channels=32, base_channels=16, num_stages=2, bicubic_residual=True,
                   init_cfg=None),
    task_loss=dict(
        detector_config='fdsr_mm::study/detectors/ssd300_r18-c16_1xb8-1000i_synthetic-voc.py',
        checkpoint=None))
train_cfg = dict(max_iters=300, val_interval=300)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(milestones=[])
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300, max_keep_ckpts=1))
