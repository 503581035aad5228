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
          '../_base_/schedules/adam_2000k.py', '../_base_/models/tdsr_ddbpn-x4_ssd300-voc0712.py']

default_hooks = dict(checkpoint=dict(interval=50_000))
