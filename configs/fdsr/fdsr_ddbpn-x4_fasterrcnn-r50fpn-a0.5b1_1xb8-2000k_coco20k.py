# Feature prior: Faster R-CNN R50-FPN backbone + FPN neck (all five levels, equal weights).
# Weights: faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth from the MMDetection model zoo.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(feature_loss=dict(
    detector_config='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', use_neck=True,
    checkpoint='checkpoints/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth'))
