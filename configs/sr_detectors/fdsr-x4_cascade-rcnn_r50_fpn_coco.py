"""Cascade R-CNN R50-FPN on x4 low-resolution images: FDSR x4 super-resolves, the unchanged detector
(configs/detectors/cascade-rcnn_r50_fpn_1x_coco.py) detects;
boxes come back in the input images' pixels.

    from mmdet.apis import DetInferencer
    DetInferencer(model='configs/sr_detectors/fdsr-x4_cascade-rcnn_r50_fpn_coco.py')(
        'lr_images/', out_dir='out/')
    python tools/sr_detect.py configs/sr_detectors/fdsr-x4_cascade-rcnn_r50_fpn_coco.py \
        lr_images/ --out-dir out/

Weights: model.sr.checkpoint (FDSR x4, `mim train fdsr_mm configs/fdsr_x4.py`) and
model.detector_checkpoint (the model-zoo file whose URL is in
../detectors/cascade-rcnn_r50_fpn_1x_coco.py),
or one file packed by tools/pack_sr_detector.py (then DetInferencer(..., weights=FILE)).
Test loop (`python tools/test.py` / mmdet's): CocoMetric on LR-annotated data: set
test_dataloader.dataset.data_root/ann_file/data_prefix and test_evaluator.ann_file.
"""
_base_ = ['../detectors/cascade-rcnn_r50_fpn_1x_coco.py', './_base_/fdsr-x4_lr-images.py']
model = dict(
    _delete_=True, type='SRDetector', detector={{_base_.model}},
    detector_test_pipeline={{_base_.test_pipeline}}, sr={{_base_.sr}},
    detector_checkpoint='checkpoints/cascade_rcnn_r50_fpn_1x_coco_20200316-3dc56deb.pth',
    data_preprocessor={{_base_.lr_data_preprocessor}})
test_dataloader = dict(dataset=dict(pipeline={{_base_.lr_test_pipeline}}))
val_dataloader = test_dataloader
