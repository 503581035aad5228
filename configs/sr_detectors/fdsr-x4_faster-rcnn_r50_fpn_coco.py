# Faster R-CNN R50-FPN on x4 low-resolution images: FDSR x4, then the unchanged detector of
# ../detectors/faster-rcnn_r50_fpn_1x_coco.py; boxes in the input images' pixels.
# Use and weights: README, "Detect on your low-resolution images".
_base_ = ['../detectors/faster-rcnn_r50_fpn_1x_coco.py', './_base_/fdsr-x4_lr-images.py']
model = dict(
    _delete_=True, type='SRDetector', detector={{_base_.model}},
    detector_test_pipeline={{_base_.test_pipeline}}, sr={{_base_.sr}},
    detector_checkpoint='checkpoints/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth',
    data_preprocessor={{_base_.lr_data_preprocessor}})
test_dataloader = dict(dataset=dict(pipeline={{_base_.lr_test_pipeline}}))
val_dataloader = test_dataloader
# CocoMetric whose APS/APM/APL bin by HR-equivalent areas on an LR json of tools/make_lr_coco.py
# (the cascade's and the paper's size split); on any other json it is CocoMetric.
test_evaluator = dict(type='HRAreaCocoMetric')
val_evaluator = test_evaluator
