# The TDSR paper config shrunk for CPU smoke runs: the tiny DBPN of the tiny FDSR config (no
# official init), an SSD300 whose VGG16 is replaced by a 3-stage ResNet-18 at 8 base channels
# (random weights unless task_loss.checkpoint is set), the 200-iteration smoke schedule. Point
# the data at a VOCdevkit with --cfg-options (tests/test_tools/test_mim_train_tdsr.py shows how).
_base_ = ['./tdsr_ddbpn-x4_ssd300-voc0712-a1g0.1_1xb8-2000k_voc0712.py']

model = dict(
    generator=dict(mid_channels=32, base_channels=16, num_stages=2, bicubic_residual=True,
                   init_cfg=None),
    task_loss=dict(
        detector_cfg_options={
            'model.backbone': dict(_delete_=True, type='ResNet', depth=18, base_channels=8,
                                   num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                                   out_indices=(1, 2), frozen_stages=-1, norm_eval=True,
                                   init_cfg=None),
            'model.neck.in_channels': (16, 32),
            'model.neck.out_channels': (16, 32, 16, 16, 16, 16),
            'model.bbox_head.in_channels': (16, 32, 16, 16, 16, 16)},
        checkpoint=None))
# the smoke schedule of configs/_base_/schedules/adam-lr3e-3_200i.py (stated as differences)
train_cfg = dict(max_iters=200, val_interval=100)
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = dict(type='MultiStepLR', by_epoch=False, milestones=[150], gamma=0.5)
randomness = dict(seed=0)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100))
