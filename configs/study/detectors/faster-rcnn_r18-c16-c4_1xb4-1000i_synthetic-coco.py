# C4-style Faster R-CNN of the miniature study, whose backbone is the FDSR feature prior (the
# paper's arrangement: the prior and the evaluators are different detectors). ResNet-18 at 16 base
# channels (random init) up to C4 (stride 16, 64 channels); RoIs are pooled from C4 and go to a
# light 2-fc head instead of mmdet's res5 shared head, which costs too much per RoI on a CPU.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py', '../_base_/synthetic-coco_detection.py'
]

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    # pytorch-style RGB normalization (random init; no caffe weights to match).
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_cfg=norm_cfg,
                  norm_eval=False, style='pytorch', init_cfg=None),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        # 16-192 px anchors on the stride-16 map: the smallest objects are 16 px wide.
        anchor_generator=dict(scales=[1, 2, 4, 8, 12])),
    roi_head=dict(
        shared_head=None,
        bbox_roi_extractor=dict(roi_layer=dict(output_size=7, sampling_ratio=2),
                                out_channels=64),
        bbox_head=dict(_delete_=True, type='Shared2FCBBoxHead', in_channels=64,
                       fc_out_channels=256, roi_feat_size=7, num_classes=5,
                       bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                                       target_stds=[0.1, 0.1, 0.2, 0.2]),
                       reg_class_agnostic=False,
                       loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                       loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=100),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))
