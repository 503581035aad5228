# The SR part shared by configs/sr_detectors/*: FDSR x4 (configs/fdsr_x4.py, trained with
# `mim train fdsr_mm configs/fdsr_x4.py`) and the pipeline of the LOW-resolution input images.
# A child config wraps its detector config's `model` into an SRDetector with these (see
# fdsr-x4_faster-rcnn_r50_fpn_coco.py); nothing of the detector changes.
sr = dict(
    config='fdsr_mm::fdsr_x4.py',  # the MMagic config whose model.generator is built
    checkpoint='work_dirs/fdsr_x4/iter_2000000.pth',  # its training checkpoint (generator.*)
    scale=4,
    tile=200,  # LR tile size: bounds memory on large images (whole image when smaller)
    tile_pad=None)  # None: D-DBPN's receptive field (21 LR px), so tiles equal the whole image
# LR images are loaded as they are (BGR uint8) and packed unresized: SRDetector super-resolves
# them, then applies the detector's own test pipeline (resize, pack) to the SR image.
lr_test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape')),
]
# Keep LR values in 0-255, flipped to RGB (what SR generators take after /255).
lr_data_preprocessor = dict(type='DetDataPreprocessor', bgr_to_rgb=True, pad_size_divisor=1)
