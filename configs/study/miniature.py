# The miniature FDSR study (tools/run_study.py with no SPEC): the whole method, end to end, on
# generated data and a CPU. A study spec: tools/run_study.py turns it into stages (README, "How to
# write a study spec"); a child spec inherits it with _base_ and adds or overrides a few entries.
# Placeholders: {data} the data stage's folder, {loader} each of train/val/test_dataloader,
# {<size>} an entry of the sizes below (an argument whose size is None is left out).

# Sizes, full run and --quick. *_iters None: the config's own schedule.
sizes = dict(
    full=dict(train_images=1000, val_images=200, image_size=256, det_iters=None,
              prior_iters=None, sr_iters=None, ft_iters=None, panels=6, voc_trainval=None,
              voc_test=None, ssd_iters=None, cls_iters=None, resamples=1000),
    quick=dict(train_images=48, val_images=8, image_size=128, det_iters=150, prior_iters=20,
               sr_iters=2, ft_iters=2, panels=2, voc_trainval=32, voc_test=8, ssd_iters=100,
               cls_iters=5, resamples=200))

# Data stages: a generator tool writing <study>/<folder>; '--seed <seed>' is appended.
data = dict(
    data=dict(tool='tools/make_synthetic_coco.py', folder='data/synthetic_coco',
              args=['--train', '{train_images}', '--val', '{val_images}', '--size',
                    '{image_size}'],
              outputs=['annotations/instances_train.json', 'annotations/instances_val.json'],
              ann_file='annotations/instances_val.json'),
    data_voc=dict(tool='tools/make_synthetic_voc.py', folder='data/synthetic_voc',
                  args=['--trainval={voc_trainval}', '--test={voc_test}'],
                  outputs=['VOC2007/ImageSets/Main/test.txt']))

# Detectors to train (stage det_<name>): one config matching `config`, on a data stage, for
# sizes[iters] iterations. COCO-format data also sets the evaluators' ann_file.
detectors = dict(
    faster_rcnn=dict(config='configs/study/detectors/faster-rcnn_*-fpn_*.py', data='data',
                     iters='det_iters'),
    retinanet=dict(config='configs/study/detectors/retinanet_*-fpn_*.py', data='data',
                   iters='det_iters'),
    cascade_rcnn=dict(config='configs/study/detectors/cascade-rcnn_*-fpn_*.py', data='data',
                      iters='det_iters'),
    c4_prior=dict(config='configs/study/detectors/faster-rcnn_*-c4_*.py', data='data',
                  iters='prior_iters'),
    ssd=dict(config='configs/study/detectors/ssd*_synthetic-voc.py', data='data_voc',
             iters='ssd_iters'))

# Feature priors (weights for the frozen backbone of `architecture`): a trained detector, a random
# init (stage prior_<name>), or a classifier trained on the data (stage prior_<name>).
prior_architecture = 'c4_prior'
priors = dict(
    c4=dict(detector='c4_prior'),
    random=dict(random_init=True),
    classifier=dict(
        config='configs/study/classifiers/r18-c16-c4_crop-cls_1xb32-*i_synthetic-coco.py',
        data='data', iters='cls_iters'))

# SR pre-training (stage sr_pretrain; evaluated as it is under the method name `method`).
sr_pretrain = dict(config='configs/study/sr/dbpn-small_x4_pixel_1xb8-600i_synthetic-coco.py',
                   data='data', iters='sr_iters', method='dbpn_pretrained')
sr_options = ['{loader}.dataset.data_root={data}']
quick_sr_options = ['train_dataloader.batch_size=2']
# The report judges the study's claims with its own paired bootstrap (Holm-adjusted, over training
# seeds and test images); the cascades' per-method intervals against bicubic would repeat that for
# every method and metric: 8 ms per method, metric and draw (measured: paired_bootstrap, 200
# images, 5 classes, 2 busy cores), so roughly 10 min more for the main job (an estimate).
cascade_options = ['--reference', 'none']
device = 'cpu'  # the cascades' SR device (a CPU study)

# SR fine-tunes (stage sr_<name>): config, (alpha, beta) for Fig. 3, feature prior (None: pixel
# only), start_from (default sr_pretrain), seeded (default True: repeated with --seeds),
# cfg_options (added to the config's). 'dbpn' and 'fdsr' are the Table 1/2 columns.
sr_variants = dict(
    dbpn=dict(config='configs/study/sr/dbpn-small_x4_a0.5b0_1xb8-300i_synthetic-coco-ft.py',
              alpha=0.5, beta=0., prior=None),
    fdsr=dict(config='configs/study/sr/fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-'
                     'coco-ft.py', alpha=0.5, beta=1., prior='c4'),
    fdsr_a0b1=dict(config='configs/study/sr/fdsr_dbpn-small_x4_c4prior-a0b1_1xb8-300i_synthetic-'
                          'coco-ft.py', alpha=0., beta=1., prior='c4'),
    fdsr_a1b1=dict(config='configs/study/sr/fdsr_dbpn-small_x4_c4prior-a1b1_1xb8-300i_synthetic-'
                          'coco-ft.py', alpha=1., beta=1., prior='c4'),
    fdsr_randprior=dict(config='configs/study/sr/fdsr_dbpn-small_x4_randprior-a0.5b1_1xb8-300i_'
                               'synthetic-coco-ft.py', alpha=0.5, beta=1., prior='random'),
    fdsr_clsprior=dict(config='configs/study/sr/fdsr_dbpn-small_x4_clsprior-a0.5b1_1xb8-300i_'
                              'synthetic-coco-ft.py', alpha=0.5, beta=1., prior='classifier'))

# Task-driven fine-tunes (stage sr_<name>): the pre-trained SR through a trained detector's loss,
# on that detector's data (Table 3's TDSR).
task_finetunes = dict(
    tdsr=dict(config='configs/study/sr/tdsr_dbpn-small_x4_ssd-a1g0.1_1xb4-300i_synthetic-voc-'
                     'ft.py', detector='ssd'))

# Evaluators (stage cascade_<name>): methods through the trained detector on its data's test
# split. The first is Table 1's and Fig. 3's: every other SR variant and the Fig. 1 panels join
# it. seeded: the methods the --seeds repeats evaluate ('variants': every seeded SR variant).
# table3: the VOC-format table (else a Table 2 row).
_table = ['hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'fdsr']
evaluators = dict(
    faster_rcnn=dict(methods=_table, seeded='variants'),
    retinanet=dict(methods=_table, seeded=['dbpn', 'fdsr']),
    cascade_rcnn=dict(methods=_table, seeded=['dbpn', 'fdsr']),
    ssd=dict(methods=['hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'tdsr', 'fdsr'],
             seeded=['dbpn', 'tdsr', 'fdsr'], table3=True))

# Claims (id -> claim; a child adds its own id): "b > a" on `metric` of `evaluator`, judged by
# a paired bootstrap 95% CI; text: the claim as the report states it; paper: the paper's numbers
# beside it (Table 1-3, Fig. 3).
_fig3 = 'FDSR above VGG19 / ResNet50-C4 ImageNet priors (Fig. 3)'
_coco_claims = [('HR > bicubic (the x4 problem)', 'bicubic', 'hr', '37.7 vs 22.3'),
                ('D-DBPN fine-tune > bicubic', 'bicubic', 'dbpn', '26.5 vs 22.3'),
                ('FDSR > D-DBPN fine-tune (control)', 'dbpn', 'fdsr', '29.6 vs 26.5'),
                ('FDSR > D-DBPN pre-trained (no fine-tune)', 'dbpn_pretrained', 'fdsr',
                 '29.6 vs 26.5')]
claims = {
    **{f'faster_rcnn:{b}>{a}': dict(evaluator='faster_rcnn', text=t, a=a, b=b, metric='AP',
                                    paper=p) for t, a, b, p in _coco_claims},
    'faster_rcnn:fdsr>fdsr_a0b1': dict(
        evaluator='faster_rcnn', text='mixed (a0.5 b1) > feature-only (a0 b1)', a='fdsr_a0b1',
        b='fdsr', metric='AP', paper='29.6 vs 27.0'),
    'faster_rcnn:fdsr>fdsr_randprior': dict(
        evaluator='faster_rcnn', text='detector prior > random-init backbone prior',
        a='fdsr_randprior', b='fdsr', metric='AP', paper=_fig3),
    'faster_rcnn:fdsr>fdsr_clsprior': dict(
        evaluator='faster_rcnn', text='detector prior > crop-classifier backbone prior',
        a='fdsr_clsprior', b='fdsr', metric='AP', paper=_fig3),
    **{f'{e}:{b}>{a}': dict(evaluator=e, text=t, a=a, b=b, metric='AP', paper='')
       for e in ('retinanet', 'cascade_rcnn') for t, a, b, _ in _coco_claims},
    'ssd:dbpn>bicubic': dict(evaluator='ssd', text='D-DBPN fine-tune > bicubic', a='bicubic',
                             b='dbpn', metric='mAP', paper='59.81 vs 48.85'),
    'ssd:tdsr>dbpn': dict(evaluator='ssd', text='TDSR > D-DBPN fine-tune', a='dbpn', b='tdsr',
                          metric='mAP', paper='67.96 vs 59.81'),
    'ssd:fdsr>tdsr': dict(evaluator='ssd', text='FDSR > TDSR (paper: equal)', a='tdsr', b='fdsr',
                          metric='mAP', paper='67.98 vs 67.96')}

# The report: Fig. 3's (alpha, beta) points and the other priors' labels (on the first evaluator).
report = dict(fig3_methods=['dbpn', 'fdsr_a0b1', 'fdsr', 'fdsr_a1b1'],
              other_priors=dict(fdsr_randprior='random-init backbone',
                                fdsr_clsprior='crop-classifier backbone'))
