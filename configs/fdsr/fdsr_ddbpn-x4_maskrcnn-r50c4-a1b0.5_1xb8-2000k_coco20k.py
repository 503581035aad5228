# Fig. 3 grid: alpha = 1, beta = 0.5.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(pixel_loss=dict(loss_weight=1.), feature_loss=dict(loss_weight=0.5))
