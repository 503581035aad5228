# Miniature study, SR stage 2, the "D-DBPN" row: fine-tune the pre-trained small DBPN pixel-only
# (alpha 0.5, beta 0) for 300 iterations at a constant lr 1e-3 (tools/run_study.py sets load_from).
# The FDSR fine-tunes are its children and differ only in the loss weights.
_base_ = ['./dbpn-small_x4_pixel_1xb8-600i_synthetic-coco.py']

model = dict(pixel_loss=dict(loss_weight=0.5))
train_cfg = dict(max_iters=300, val_interval=300)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(milestones=[])
default_hooks = dict(checkpoint=dict(interval=300))
