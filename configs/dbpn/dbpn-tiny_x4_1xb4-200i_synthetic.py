# A tiny DBPN (dense, T=2, 16 channels, bicubic residual) trained pixel-only on synthetic images for 200
# iterations: the README's smoke-scale main job and the model of the mim train/resume tests.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic_sr_x4.py',
          '../_base_/schedules/adam-lr3e-3_200i.py']

scale = 4
model = dict(
    type='BaseEditModel',
    # bicubic_residual: the tiny net learns a correction to bicubic upsampling, so a short CPU
    # run already beats bicubic (the released D-DBPN has no such residual).
    generator=dict(type='DBPN', in_channels=3, mid_channels=32, base_channels=16, num_stages=2,
                   scale=scale, bicubic_residual=True),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    train_cfg=dict(),
    test_cfg=dict(),
    # uint8 RGB images -> RGB [0, 1] for the generator; outputs are mapped back to [0, 255].
    data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100))
