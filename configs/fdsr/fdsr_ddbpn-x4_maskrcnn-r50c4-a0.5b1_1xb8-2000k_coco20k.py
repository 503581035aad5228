# The FDSR paper's setting (Sec. 3.1): D-DBPN x4 from the official weights, alpha 0.5, beta 1,
# Mask R-CNN R50-C4 feature prior, COCO 20k (tools/prepare_coco_sr.py), Adam 1e-4, batch 8, 2e6 iters.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/coco_sr_x4.py',
          '../_base_/schedules/adam_2000k.py', '../_base_/models/fdsr_ddbpn-x4_maskrcnn-r50c4.py']

default_hooks = dict(checkpoint=dict(interval=50_000))
