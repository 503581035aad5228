# Small SSD300 of the miniature study's Table 3 (VOC-format synthetic data, mAP at IoU 0.5):
# ResNet-18 at 16 base channels (random init, trainable BN), stride 8/16/32 outputs (38, 19, 10)
# plus three SSDNeck levels (5, 3, 1), mmdet's SSD head (FixedSSDHead: mmdet 3.3.0's SSDHead
# cannot predict, see fdsr_mm/models/detectors/fixed_ssd_head.py) on 300x300 input.
_base_ = ['mmdet::_base_/models/ssd300.py', '../_base_/synthetic-voc_detection.py']

model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True, pad_size_divisor=1),
    backbone=dict(
        _delete_=True, type='ResNet', depth=18, base_channels=16, num_stages=4,
        out_indices=(1, 2, 3), frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False, style='pytorch', init_cfg=None),
    neck=dict(
        in_channels=(32, 64, 128), out_channels=(32, 64, 128, 128, 64, 64),
        level_strides=(2, 2, 1), level_paddings=(1, 1, 0), l2_norm_scale=None,
        norm_cfg=dict(type='BN', requires_grad=True)),
    bbox_head=dict(
        type='FixedSSDHead', num_classes=5, in_channels=(32, 64, 128, 128, 64, 64),
        # anchors 21-261 px (0.07-0.87 x 300): the objects are 23-188 px.
        anchor_generator=dict(basesize_ratio_range=(0.15, 0.9))))
