# The paper's FDSR setting trained on realistic LR patches (blur, bicubic/bilinear/area resize,
# noise, JPEG: fdsr_mm/datasets/transforms/degradations.py) instead of bicubic ones, fresh draws for every
# crop. Evaluate with tools/cascade_eval.py --degradation realistic.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

train_pipeline = [
    dict(type='Degradation', scale=_base_.scale, name='realistic', per_call_random=True)
    if step.type == 'BicubicDegradation' else step for step in _base_.train_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
