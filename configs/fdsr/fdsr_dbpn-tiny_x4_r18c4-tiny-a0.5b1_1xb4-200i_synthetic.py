# The paper's FDSR model (alpha 0.5, beta 1, Mask R-CNN C4 feature prior) shrunk for CPU smoke
# runs: the tiny DBPN of configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py (no official init) and
# a ResNet-18 C4 backbone with 16 base channels, on synthetic images for 200 iterations.
# checkpoint=None keeps a RANDOM feature prior; pass a trained detector's file with
#   --cfg-options model.feature_loss.checkpoint=path/to/detector.pth
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic_sr_x4.py',
          '../_base_/schedules/adam-lr3e-3_200i.py', '../_base_/models/fdsr_ddbpn-x4_maskrcnn-r50c4.py']

model = dict(
    generator=dict(mid_channels=32, base_channels=16, num_stages=2, bicubic_residual=True,
                   init_cfg=None),
    feature_loss=dict(
        detector_cfg_options={'model.backbone.depth': 18, 'model.backbone.base_channels': 16},
        checkpoint=None))
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100))
