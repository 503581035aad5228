# Fig. 3 ImageNet prior "ResNet50-C4": an ImageNet classifier's ResNet-50 up to conv4 (res4);
# torchvision's resnet50-0676ba61.pth (keys without a 'backbone.' prefix).
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(feature_loss=dict(
    detector_config='fdsr_mm::_base_/feature_extractors/resnet50-c4_imagenet.py',
    checkpoint='checkpoints/resnet50-0676ba61.pth', checkpoint_prefix=''))
