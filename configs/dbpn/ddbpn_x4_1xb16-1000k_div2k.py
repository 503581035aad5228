# D-DBPN x4 trained from scratch, pixel-only, on DIV2K HR images (how the released weights were
# made; the DBPN authors used 40x40 LR patches, batch 16 and Adam 1e-4 halved half-way).
# Expects data/DIV2K/DIV2K_train_HR/*.png and data/DIV2K/DIV2K_valid_HR/*.png.
_base_ = ['./ddbpn_x4_1xb8-2000k_coco20k.py']

model = dict(generator=dict(init_cfg=None))
data_root = 'data/DIV2K'
train_dataloader = dict(batch_size=16, dataset=dict(
    data_root=data_root, ann_file='', data_prefix=dict(gt='DIV2K_train_HR'),
    metainfo=dict(dataset_type='div2k')))
val_dataloader = dict(dataset=dict(
    data_root=data_root, ann_file='', data_prefix=dict(gt='DIV2K_valid_HR'),
    metainfo=dict(dataset_type='div2k')))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=1_000_000)
param_scheduler = dict(type='MultiStepLR', by_epoch=False, milestones=[500_000], gamma=0.5)
