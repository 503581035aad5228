# ImageNet ResNet-50 (torchvision layout, pytorch style) up to res4 (C4, 1024 channels, stride 16)
# as a feature extractor for DetectorFeatureLoss: the backbone of mmdet's C4 detectors, without
# detection training. Only `model.data_preprocessor` and `model.backbone` are read.
model = dict(
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=50, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                  out_indices=(2, ), frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=False),
                  norm_eval=True, style='pytorch'))
