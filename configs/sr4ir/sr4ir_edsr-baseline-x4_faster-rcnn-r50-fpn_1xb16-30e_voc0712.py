# SR4IR (Kim et al., CVPR 2024) at paper scale, detection setting: EDSR-baseline x4 + Faster R-CNN
# on PASCAL VOC 07+12 trainval, trained in turns (see configs/_base_/models/sr4ir_*.py).
# The authors' values (options/det/014_SR4IR_edsr_x4.yml of their public code):
#   batch 16 on 1 GPU, 30 epochs; SR: AdamW lr 1e-4, betas (0.9, 0.999), wd 0; detector: SGD lr
#   2e-2, momentum 0.9, wd 1e-4; epoch 1 a linear warm-up from lr/iters_per_epoch for both;
#   then cosine annealing with restarts over periods of [2, 27] epochs, eta_min 1e-6 (SR) and
#   1e-4 (detector); the TDP term off for the first 3 epochs.
# Iterations: VOC07+12 trainval is 16551 images -> 1034 iterations of 16 per epoch.
# Differences, stated: their detector is torchvision's fasterrcnn_mobilenet_v3_large_fpn with an
# ImageNet MobileNetV3 (no mmdet equivalent here); this config uses mmdet's VOC Faster R-CNN R50
# FPN with its ImageNet ResNet-50 (the backbone's init_cfg). Their images keep the VOC size and
# torchvision resizes them inside the detector; here the HR images are the TDSR data's 300x300
# (configs/_base_/datasets/voc0712_tdsr_x4.py), so that SR4IR, TDSR and FDSR train on the same
# pairs. The SR network starts from MMagic's released EDSR x4 (same architecture as EDSR-baseline).
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/voc0712_tdsr_x4.py',
          '../_base_/models/sr4ir_edsr-x4_faster-rcnn-r50-fpn.py']

iters_per_epoch = 16551 // 16
max_iters = 30 * iters_per_epoch
model = dict(tdp_start_iter=3 * iters_per_epoch)
# MMagic's released EDSR x4 (generator.* keys): a partial load (load_from_partial in the model
# base), the detector keeps its own initialisation.
load_from = 'checkpoints/edsr_x4c64b16_1x16_300k_div2k_20200608-3c2af8a3.pth'
train_dataloader = dict(batch_size=16)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=5 * iters_per_epoch)
param_scheduler = {
    name: [dict(type='LinearLR', start_factor=1. / iters_per_epoch, by_epoch=False, begin=0,
                end=iters_per_epoch),
           dict(type='CosineRestartLR', periods=[2 * iters_per_epoch, 27 * iters_per_epoch],
                restart_weights=[1, 1], eta_min=eta_min, by_epoch=False, begin=iters_per_epoch,
                end=max_iters)]
    for name, eta_min in (('generator', 1e-6), ('detector', 1e-4))}
default_hooks = dict(checkpoint=dict(interval=10 * iters_per_epoch))
