# The short name: `mim train fdsr_mm configs/fdsr_x4.py` trains the paper's FDSR x4 setting.
_base_ = ['./fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']
