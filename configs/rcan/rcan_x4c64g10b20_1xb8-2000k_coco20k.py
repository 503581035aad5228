# The paper's Table 1 "RCAN" baseline (10 groups x 20 blocks, 64 channels), same data, schedule
# and evaluation as the D-DBPN row. MMagic 1.2.0 has no RCAN: fdsr_mm's RCANNet keeps the
# authors' module names, so their released RCAN_BIX4.pt state_dict loads as is, e.g.
#   model.generator.init_cfg=dict(type='Pretrained', checkpoint='checkpoints/RCAN_BIX4.pt')
_base_ = ['../dbpn/ddbpn_x4_1xb8-2000k_coco20k.py']

model = dict(generator=dict(_delete_=True, type='RCANNet', scale=4, mid_channels=64,
                            num_groups=10, num_blocks=20, reduction=16))
