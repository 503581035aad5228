# Small Cascade R-CNN FPN evaluator of the miniature study: ResNet-18 at 16 base channels (random
# init), 64-channel FPN/heads, fewer proposals and RoIs and RoIAlign sampling_ratio=2 for the CPU.
_base_ = ['mmdet::_base_/models/cascade-rcnn_r50_fpn.py', '../_base_/synthetic-coco_detection.py']

stage_heads = [
    dict(type='Shared2FCBBoxHead', in_channels=64, fc_out_channels=256, roi_feat_size=7,
         num_classes=5, reg_class_agnostic=True,
         bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                         target_stds=stds),
         loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
         loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))
    for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067])
]
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64, anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=dict(sampling_ratio=2), out_channels=64),
        bbox_head=stage_heads),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=100),
        rcnn=[dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=iou, neg_iou_thr=iou,
                                 min_pos_iou=iou, match_low_quality=False, ignore_iof_thr=-1),
                   sampler=dict(type='RandomSampler', num=64, pos_fraction=0.25,
                                neg_pos_ub=-1, add_gt_as_proposals=True),
                   pos_weight=-1, debug=False)
              for iou in (0.5, 0.6, 0.7)]),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))
