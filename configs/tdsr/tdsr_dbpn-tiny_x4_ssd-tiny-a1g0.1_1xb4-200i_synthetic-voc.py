# The TDSR paper model shrunk for CPU smoke runs: the tiny DBPN of the tiny FDSR config (no
# official init) and an SSD300 whose VGG16 is a 3-stage ResNet-18 at 8 base channels with five
# classes (random weights unless task_loss.checkpoint is set), on the synthetic VOC-format set,
# 200 iterations.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic-voc_tdsr_x4.py',
          '../_base_/schedules/adam-lr3e-3_200i.py', '../_base_/models/tdsr_ddbpn-x4_ssd300-voc0712.py']

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
            'model.bbox_head.in_channels': (16, 32, 16, 16, 16, 16),
            'model.bbox_head.num_classes': 5},
        checkpoint=None))
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100))
