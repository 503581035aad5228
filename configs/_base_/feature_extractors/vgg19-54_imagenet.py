# ImageNet VGG19 up to relu5_4 ("VGG19-54") as a feature extractor for DetectorFeatureLoss.
# Only `model.data_preprocessor` (how images are normalised) and `model.backbone` are read.
model = dict(
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='VGG19Features', out_layers=('relu5_4', )))
