# SR4IR model (Kim et al., CVPR 2024) in its detection setting: EDSR-baseline x4 (16 blocks, 64
# channels: MMagic's EDSRNet of mmagic::edsr/edsr_x4c64b16_1xb16-300k_div2k.py) and a Faster R-CNN
# trained in turns (fdsr_mm/models/editors/sr4ir.py). Loss values from the authors' public options
# (options/det/014_SR4IR_edsr_x4.yml): step (a) L1 1.0 + TDP (criterion l1, weight 1.0, the two
# finest FPN levels at 0.5 each); step (b) the detector's loss on SR, HR and CQMix (8x8 cells,
# p 0.5) at 0.34 each.
model = dict(
    type='SR4IR',
    generator=dict(type='EDSRNet', in_channels=3, out_channels=3, mid_channels=64,
                   num_blocks=16, upscale_factor=4, res_scale=1,
                   rgb_mean=[0.4488, 0.4371, 0.4040], rgb_std=[1.0, 1.0, 1.0]),
    detector=dict(config='mmdet::pascal_voc/faster-rcnn_r50_fpn_1x_voc0712.py', checkpoint=None),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    tdp_loss=dict(type='TaskDrivenPerceptualLoss', level_weights=(0.5, 0.5), criterion='l1',
                  loss_weight=1.0),
    det_loss_weights=dict(sr=0.34, hr=0.34, cqmix=0.34),
    cqmix=dict(grid=8, p=0.5),
    tdp_start_iter=0,
    data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))
# One optimizer per network (MMagic's GAN pattern); the schedule file sets their values.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                                                       weight_decay=0.)),
    detector=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9,
                                                      weight_decay=1e-4)))
# A study or user starting the generator from an SR-only checkpoint (generator.* keys) keeps the
# detector of model.detector.checkpoint: the load is partial by design.
load_from_partial = True
# Distributed training (--launcher pytorch/slurm): each network in its own DDP wrapper and
# SR4IR.train_step called as it is (as MMagic's GAN models run); the plain model wrapper would
# bypass the two steps. Not exercised across processes by the test suite.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
