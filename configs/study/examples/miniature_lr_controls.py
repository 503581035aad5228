# A child study spec: the miniature study plus its low-resolution controls (issue 21): the
# detector on the LR image itself (`lr_native`, a built-in method), and the study's Faster R-CNN
# FPN fine-tuned on degraded images from its trained weights (`start_from`) as one more evaluator
# on the same test images. A claim with `evaluator_b` scores b on that evaluator's run and a on
# `evaluator`'s, image by image (both evaluators must evaluate the same data).
#   python tools/run_study.py configs/study/examples/miniature_lr_controls.py --dry-run
_base_ = ['../miniature.py']

sizes = dict(full=dict(lr_adapted_iters=None), quick=dict(lr_adapted_iters=20))

# Stage det_faster_rcnn_lr: the lr_adapted config from det_faster_rcnn's last checkpoint.
detectors = dict(faster_rcnn_lr=dict(
    config='configs/study/detectors/lr_adapted/faster-rcnn_*.py', data='data',
    iters='lr_adapted_iters', start_from='faster_rcnn'))

evaluators = dict(
    faster_rcnn=dict(methods=['hr', 'bicubic', 'lr_native', 'dbpn_pretrained', 'dbpn', 'fdsr']),
    faster_rcnn_lr=dict(methods=['bicubic', 'lr_native', 'fdsr'], seeded=['fdsr']))

claims = {
    'faster_rcnn:bicubic>lr_native': dict(
        evaluator='faster_rcnn', a='lr_native', b='bicubic', metric='AP',
        text='bicubic x4 > the LR image itself (plain detector)'),
    'faster_rcnn_lr:fdsr>bicubic': dict(
        evaluator='faster_rcnn_lr', a='bicubic', b='fdsr', metric='AP',
        text='FDSR > bicubic (LR-adapted detector)'),
    'faster_rcnn:fdsr>faster_rcnn_lr:bicubic': dict(
        evaluator='faster_rcnn_lr', a='bicubic', evaluator_b='faster_rcnn', b='fdsr',
        metric='AP', text='FDSR through the plain detector > bicubic through the LR-adapted one'),
    'faster_rcnn_lr:bicubic>faster_rcnn:bicubic': dict(
        evaluator='faster_rcnn', a='bicubic', evaluator_b='faster_rcnn_lr', b='bicubic',
        metric='AP', text='the LR-adapted detector > the plain one (both on bicubic)'),
}

report = dict(table_methods=['hr', 'bicubic', 'lr_native', 'dbpn_pretrained', 'dbpn', 'fdsr'])
