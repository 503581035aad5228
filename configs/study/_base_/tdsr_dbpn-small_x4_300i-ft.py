# The miniature's TDSR fine-tune without its data and task network: the small DBPN (from the
# study's pre-training: tools/run_study.py sets load_from), alpha 1, gamma 0.1 through a frozen
# detector (detector_config/checkpoint: the child config and tools/run_study.py), for the SR
# fine-tunes' 300 iterations at their constant lr 1e-3. A child adds a TDSR dataset base.
_base_ = ['../../_base_/default_runtime.py', '../../_base_/schedules/adam-lr3e-3_200i.py',
          '../../_base_/models/tdsr_ddbpn-x4_ssd300-voc0712.py']

model = dict(
    # channels_last=False: the NCHW path the recorded studies ran (docs/study_*); NHWC, the
    # DBPN default, is faster but rounds differently, and a retrained SR differs by training
    # noise (docs/study_2026-12-07_speed/README.md).
    generator=dict(mid_channels=32, base_channels=16, num_stages=2, bicubic_residual=True,
                   channels_last=False, init_cfg=None),
    task_loss=dict(checkpoint=None))
train_cfg = dict(max_iters=300, val_interval=300)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(milestones=[])
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300, max_keep_ckpts=1))
