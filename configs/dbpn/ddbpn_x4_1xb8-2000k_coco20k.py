# The paper's "D-DBPN" row: the official D-DBPN x4 weights fine-tuned pixel-only (beta = 0) with
# the same data and schedule as FDSR. Convert the official weights first:
#   python tools/convert_dbpn_official.py DBPN_x4.pth checkpoints/dbpn_x4_official.pth
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/coco_sr_x4.py',
          '../_base_/schedules/adam_2000k.py']

scale = 4
model = dict(
    type='BaseEditModel',
    generator=dict(
        type='DBPN', scale=scale,  # D-DBPN defaults: 256/64 channels, T=7, dense
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dbpn_x4_official.pth',
                      prefix='generator.')),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    train_cfg=dict(),
    test_cfg=dict(),
    data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))
default_hooks = dict(checkpoint=dict(interval=50_000))
