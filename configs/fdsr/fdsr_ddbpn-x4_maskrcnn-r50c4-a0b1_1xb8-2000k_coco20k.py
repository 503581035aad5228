# Fig. 3: feature-driven only (alpha = 0, beta = 1); the pixel term is not built.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(pixel_loss=dict(loss_weight=0.))
