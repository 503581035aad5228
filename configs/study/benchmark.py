# The benchmark study (issue 21): the questions a reviewer asks first, in miniature, on the main
# job's data, detectors and pre-trained SR (configs/study/miniature.py), separate from the main
# job:  python tools/run_study.py configs/study/benchmark.py
#   1. Does SR beat adapting the detector to LR input? The controls: the LR image itself through
#      the detector (lr_native), and the Faster R-CNN fine-tuned on degraded images
#      (faster_rcnn_lr, from the trained detector's weights, the SR fine-tunes' budget).
#   2. Does the feature prior transfer across detectors better than a task loss? FDSR with each
#      evaluator's backbone as prior and TDSR through each evaluator, every SR model scored
#      through every evaluator (the transfer matrix).
#   3. FDSR against SR4IR (Kim et al., CVPR 2024): the pre-trained SR and the trained Faster R-CNN
#      trained in turns; its SR with its own detector (the pair, evaluator `sr4ir`) and its SR
#      alone through the other detectors.
# Every answer is a claim judged by a paired bootstrap interval, whatever it turns out.
_base_ = ['./miniature.py']

sizes = dict(full=dict(adapt_iters=None, resamples=1000), quick=dict(adapt_iters=2))

data = dict(_delete_=True, data={{_base_.data.data}})
detectors = dict(
    _delete_=True,
    faster_rcnn={{_base_.detectors.faster_rcnn}},
    retinanet={{_base_.detectors.retinanet}},
    c4_prior={{_base_.detectors.c4_prior}},
    faster_rcnn_lr=dict(config='configs/study/detectors/lr_adapted/faster-rcnn_*.py', data='data',
                        iters='adapt_iters', start_from='faster_rcnn'))
priors = dict(_delete_=True, c4=dict(detector='c4_prior'), frcnn=dict(detector='faster_rcnn'),
              retina=dict(detector='retinanet'))

_fpn_prior = 'configs/study/sr/fdsr_dbpn-small_x4_fpnprior-a0.5b1_1xb8-300i_synthetic-coco-ft.py'
sr_variants = dict(
    _delete_=True,
    dbpn={{_base_.sr_variants.dbpn}},
    fdsr={{_base_.sr_variants.fdsr}},
    fdsr_frcnn=dict(config=_fpn_prior, alpha=0.5, beta=1., prior='frcnn'),
    fdsr_retina=dict(config=_fpn_prior, alpha=0.5, beta=1., prior='retina'))
task_finetunes = dict(
    _delete_=True,
    tdsr_frcnn=dict(config='configs/study/sr/tdsr_dbpn-small_x4_frcnn-*.py',
                    detector='faster_rcnn'),
    tdsr_retina=dict(config='configs/study/sr/tdsr_dbpn-small_x4_retinanet-*.py',
                     detector='retinanet'))
joint_finetunes = dict(
    sr4ir=dict(config='configs/study/sr/sr4ir_dbpn-small_x4_frcnn_*.py', detector='faster_rcnn'))

# Each cascade compares every method with bicubic (the transfer matrix's intervals).
cascade_options = ['--reference', 'bicubic', '--resamples', '200']
_methods = ['hr', 'bicubic', 'lr_native', 'dbpn_pretrained', 'dbpn', 'fdsr', 'fdsr_frcnn',
            'fdsr_retina', 'tdsr_frcnn', 'tdsr_retina', 'sr4ir']
evaluators = dict(
    _delete_=True,
    faster_rcnn=dict(methods=_methods),
    retinanet=dict(methods=_methods),
    faster_rcnn_lr=dict(methods=['hr', 'bicubic', 'fdsr']),
    sr4ir=dict(methods=['hr', 'bicubic', 'sr4ir']))


def _claim(text, evaluator, a, b, **other):  # other: evaluator_b= or relative_to=
    return dict(evaluator=evaluator, a=a, b=b, metric='AP', text=text, paper='', **other)


claims = dict(
    _delete_=True,
    **{'lr:bicubic>lr_native': _claim('bicubic > the LR image itself (lr_native)', 'faster_rcnn',
                                      'lr_native', 'bicubic'),
       'adapt:fdsr>adapted': _claim(
           'FDSR > the detector adapted to LR (bicubic input)', 'faster_rcnn_lr', 'bicubic',
           'fdsr', evaluator_b='faster_rcnn'),
       'adapt:adapted+fdsr>adapted': _claim(
           'the adapted detector: FDSR input > bicubic input', 'faster_rcnn_lr', 'bicubic',
           'fdsr'),
       'transfer:retinanet:fdsr_frcnn>tdsr_frcnn': _claim(
           'off the diagonal: FDSR (Faster R-CNN prior) > TDSR (through Faster R-CNN), scored '
           'by RetinaNet', 'retinanet', 'tdsr_frcnn', 'fdsr_frcnn'),
       'transfer:faster_rcnn:fdsr_retina>tdsr_retina': _claim(
           'off the diagonal: FDSR (RetinaNet prior) > TDSR (through RetinaNet), scored by '
           'Faster R-CNN', 'faster_rcnn', 'tdsr_retina', 'fdsr_retina'),
       'transfer:faster_rcnn>retinanet:fdsr_frcnn<tdsr_frcnn': _claim(
           'off the diagonal FDSR loses less than TDSR (trained with Faster R-CNN, scored by '
           'RetinaNet instead)', 'retinanet', 'tdsr_frcnn', 'fdsr_frcnn',
           relative_to='faster_rcnn'),
       'transfer:retinanet>faster_rcnn:fdsr_retina<tdsr_retina': _claim(
           'off the diagonal FDSR loses less than TDSR (trained with RetinaNet, scored by '
           'Faster R-CNN instead)', 'faster_rcnn', 'tdsr_retina', 'fdsr_retina',
           relative_to='retinanet'),
       'diagonal:faster_rcnn:fdsr_frcnn>tdsr_frcnn': _claim(
           'on the diagonal: FDSR (Faster R-CNN prior) > TDSR (through Faster R-CNN), scored by '
           'Faster R-CNN', 'faster_rcnn', 'tdsr_frcnn', 'fdsr_frcnn'),
       'diagonal:retinanet:fdsr_retina>tdsr_retina': _claim(
           'on the diagonal: FDSR (RetinaNet prior) > TDSR (through RetinaNet), scored by '
           'RetinaNet', 'retinanet', 'tdsr_retina', 'fdsr_retina'),
       'sr4ir:fdsr>pair': _claim(
           'FDSR through Faster R-CNN > SR4IR (its SR with its own detector)', 'sr4ir',
           'sr4ir', 'fdsr', evaluator_b='faster_rcnn'),
       'sr4ir:faster_rcnn:fdsr>sr4ir': _claim(
           'FDSR > SR4IR\'s SR, both through the plain Faster R-CNN', 'faster_rcnn', 'sr4ir',
           'fdsr'),
       'sr4ir:retinanet:fdsr>sr4ir': _claim(
           'FDSR > SR4IR\'s SR, both through RetinaNet (a detector neither trained with)',
           'retinanet', 'sr4ir', 'fdsr')})

report = dict(
    _delete_=True,
    title='Benchmark: controls, transfer across detectors, SR4IR (miniature)',
    description=(
        'The miniature\'s data, detectors and pre-trained small DBPN. Controls: the LR image '
        'through the detector (lr_native) and the Faster R-CNN fine-tuned on degraded-and-'
        'upsampled training images (faster_rcnn_lr). Transfer: FDSR with the C4 prior and with '
        'each evaluator\'s backbone (stride-16 level) as prior, TDSR through each evaluator, all '
        'from the same pre-trained SR for the same 300 iterations. SR4IR: the pre-trained SR and '
        'the trained Faster R-CNN trained in turns for 300 iterations (evaluator sr4ir: its SR '
        'with its own detector).'),
    table_methods=_methods,
    fig3_methods=[], other_priors={},
    transfer=dict(
        rows=dict(fdsr=('FDSR, C4 prior', None), fdsr_frcnn=('FDSR', 'faster_rcnn'),
                  fdsr_retina=('FDSR', 'retinanet'), tdsr_frcnn=('TDSR', 'faster_rcnn'),
                  tdsr_retina=('TDSR', 'retinanet'), sr4ir=('SR4IR', 'faster_rcnn'),
                  dbpn=('pixel only', None)),
        evaluators=['faster_rcnn', 'retinanet']))
