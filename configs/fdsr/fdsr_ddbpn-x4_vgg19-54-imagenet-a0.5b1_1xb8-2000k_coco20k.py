# Fig. 3 ImageNet prior "VGG19-54" (relu5_4, SRGAN's phi_{5,4}); torchvision's ImageNet file
# vgg19-dcbb9e9d.pth, whose keys have no 'backbone.' prefix.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(feature_loss=dict(
    detector_config='fdsr_mm::_base_/feature_extractors/vgg19-54_imagenet.py',
    checkpoint='checkpoints/vgg19-dcbb9e9d.pth', checkpoint_prefix=''))
