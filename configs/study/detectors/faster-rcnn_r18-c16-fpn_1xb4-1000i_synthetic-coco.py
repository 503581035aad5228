# Small Faster R-CNN FPN evaluator of the miniature study: ResNet-18 at 16 base channels (random
# init), 64-channel FPN/heads, fewer proposals and RoIs and RoIAlign sampling_ratio=2 for the CPU.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/synthetic-coco_detection.py']

model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        # 16 px anchors on the stride-4 level: the smallest objects are 16 px wide.
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=dict(sampling_ratio=2), out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=5)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=100),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))
