# TDSR (Haris et al. 2018, task-driven SR) as the FDSR paper reproduces it for Table 3: D-DBPN x4
# from the official weights, fine-tuned with alpha * L1(SR, HR) + gamma * L_task, where L_task is
# the training loss (loss_cls + loss_bbox) of a frozen SSD300 trained on VOC07+12, evaluated on
# the SR image with the HR boxes. Data: VOC07+12 trainval, HR resized to 300x300, LR 75x75 by the
# training bicubic operator, flips. Same generator, optimizer and schedule as the FDSR paper
# config; only the loss weights, the task network and the data differ (a test checks it).
# alpha 1, gamma 0.1: see configs/tdsr/README.md. Files in checkpoints/ (nothing is downloaded):
#   dbpn_x4_official.pth: python tools/convert_dbpn_official.py DBPN_x4.pth checkpoints/dbpn_x4_official.pth
#   ssd300_voc0712_20220320_194658-17edda1b.pth: MMDetection model zoo (pascal_voc/ssd300_voc0712)
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/voc0712_tdsr_x4.py',
          '../_base_/schedules/adam_2000k.py', '../_base_/models/fdsr_ddbpn-x4_maskrcnn-r50c4.py']

model = dict(
    pixel_loss=dict(loss_weight=1.0),  # alpha
    feature_loss=dict(loss_weight=0.),  # beta = 0: TDSR has no feature term (nothing is built)
    task_loss=dict(
        type='DetectorTaskLoss',
        detector_config='fdsr_mm::detectors/ssd300_voc0712.py',
        checkpoint='checkpoints/ssd300_voc0712_20220320_194658-17edda1b.pth',
        loss_weight=0.1))  # gamma
default_hooks = dict(checkpoint=dict(interval=50_000))
