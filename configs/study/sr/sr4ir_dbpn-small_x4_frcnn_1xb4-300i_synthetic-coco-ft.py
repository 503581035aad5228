# Benchmark study (issue 21): SR4IR in miniature. The pre-trained small DBPN (load_from, set by
# tools/run_study.py; a partial load: the detector comes from model.detector.checkpoint, the
# study's trained Faster R-CNN FPN, also set there) and that detector trained in turns
# (fdsr_mm/models/editors/sr4ir.py) with the authors' losses, on the synthetic COCO train images
# with their boxes (the COCO TDSR fine-tunes' data), for the SR fine-tunes' 300 iterations:
# generator Adam lr 1e-3 constant (the study's SR fine-tunes), detector AdamW lr 2e-4 constant
# with the detector's own gradient clipping (the adapted detector's fine-tune: a tenth of its
# training peak). TDP from iteration 30: the authors start it after 3 of 30 epochs.
_base_ = ['../../_base_/default_runtime.py', '../../_base_/datasets/synthetic-coco_tdsr_x4.py',
          '../../_base_/models/sr4ir_edsr-x4_faster-rcnn-r50-fpn.py']

model = dict(
    generator=dict(_delete_=True, type='DBPN', scale=4, mid_channels=32, base_channels=16,
                   num_stages=2, bicubic_residual=True, channels_last=False),  # NCHW: as above
    detector=dict(
        config='fdsr_mm::study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py'),
    tdp_start_iter=30)
optim_wrapper = dict(
    generator=dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3, betas=(0.9, 0.999))),
    detector=dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=0.05),
                  clip_grad=dict(max_norm=10.0, norm_type=2)))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=300)
param_scheduler = []
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=300, max_keep_ckpts=1))
