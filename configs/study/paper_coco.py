# The FDSR paper at scale on COCO 2017: Table 1 (Faster R-CNN R50-FPN: HR, bicubic, EDSR, RCAN,
# D-DBPN, FDSR), Table 2 (FDSR through Faster R-CNN R101-FPN, RetinaNet, Cascade R-CNN) and Fig. 3
# (the alpha/beta grid and the ImageNet feature priors), every stated difference with its paired
# bootstrap interval and the Holm-adjusted verdict.
#   python tools/run_study.py configs/study/paper_coco.py --dry-run     # the stages and commands
#   python tools/run_study.py configs/study/paper_coco.py --launcher pytorch --gpus 8 --jobs 1
# What you put in place first (nothing is downloaded): COCO 2017 in data/coco (mmdet's layout),
# the official D-DBPN x4 weights and the model-zoo / torchvision / released SR files named below in
# checkpoints/. Elsewhere: --cfg-options data.coco.root=/data/coco detectors.retinanet.checkpoint=..
# (or a child spec, README "How to write a study spec"). Keys: fdsr_mm/study/spec.py.

# Sizes, full run and --quick (a short GPU run that proves the stages connect). ft_iters None:
# the configs' own schedule (the paper's 2e6 iterations, batch 8).
sizes = dict(
    full=dict(num_train=20000, num_val=100, min_side=384, ft_iters=None, panels=6,
              resamples=1000),
    quick=dict(num_train=2000, num_val=20, min_side=384, ft_iters=5000, panels=2,
               resamples=200))

# COCO 2017 where it is; tools/prepare_coco_sr.py writes the 20k SR training list into it (images
# whose sides both exceed 384 px, each decoded; '--seed <seed>' is appended).
data = dict(coco=dict(
    root='data/coco', tool='tools/prepare_coco_sr.py',
    args=['--num-train', '{num_train}', '--num-val', '{num_val}', '--min-side', '{min_side}'],
    outputs=['annotations/fdsr_sr_train20k.txt', 'annotations/fdsr_sr_val100.txt'],
    ann_file='annotations/instances_val2017.json'))

# The evaluators: mmdet's released COCO detectors (model zoo files), scored on val2017.
detectors = dict(
    faster_rcnn=dict(config='configs/detectors/faster-rcnn_r50_fpn_1x_coco.py', data='coco',
                     checkpoint='checkpoints/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth'),
    faster_rcnn_r101=dict(
        config='configs/detectors/faster-rcnn_r101_fpn_1x_coco.py', data='coco',
        checkpoint='checkpoints/faster_rcnn_r101_fpn_1x_coco_20200130-f513f705.pth'),
    retinanet=dict(config='configs/detectors/retinanet_r50_fpn_1x_coco.py', data='coco',
                   checkpoint='checkpoints/retinanet_r50_fpn_1x_coco_20200130-c2398f9e.pth'),
    cascade_rcnn=dict(config='configs/detectors/cascade-rcnn_r50_fpn_1x_coco.py', data='coco',
                      checkpoint='checkpoints/cascade_rcnn_r50_fpn_1x_coco_20200316-3dc56deb.pth'))

# Feature priors: the weights of each SR config's own feature extractor (configs/fdsr/README.md).
priors = dict(
    maskrcnn_c4=dict(
        checkpoint='checkpoints/faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth'),
    vgg19=dict(checkpoint='checkpoints/vgg19-dcbb9e9d.pth'),
    r50_imagenet=dict(checkpoint='checkpoints/resnet50-0676ba61.pth'))

# The start of every fine-tune: the authors' D-DBPN x4 (DIV2K) converted by
# tools/convert_dbpn_official.py; evaluated as it is, it is the paper's D-DBPN row.
sr_pretrain = dict(config='configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py', method='dbpn_pretrained',
                   convert='checkpoints/DBPN_x4.pth')
# Every fine-tune reads the data stage's root and starts from sr_pretrain's weights (load_from),
# not from the configs' init_cfg file.
sr_data = 'coco'
sr_options = ['{loader}.dataset.data_root={data}', 'model.generator.init_cfg=None']

# Fine-tunes (2e6 iterations each on the configs' schedule): the pixel-only control (the Fig. 3
# pixel-only point), FDSR, the Fig. 3 alpha/beta grid and the ImageNet priors. seeded: repeated by
# --seeds N (the grid is not, to keep N seeds affordable).
_fdsr = 'configs/fdsr/fdsr_ddbpn-x4_'
sr_variants = dict(
    dbpn=dict(config='configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py', alpha=0.5, beta=0.,
              prior=None),
    fdsr=dict(config='configs/fdsr_x4.py', alpha=0.5, beta=1., prior='maskrcnn_c4'),
    fdsr_a0b1=dict(config=_fdsr + 'maskrcnn-r50c4-a0b1_1xb8-2000k_coco20k.py', alpha=0.,
                   beta=1., prior='maskrcnn_c4', seeded=False),
    fdsr_a025b1=dict(config=_fdsr + 'maskrcnn-r50c4-a0.25b1_1xb8-2000k_coco20k.py', alpha=0.25,
                     beta=1., prior='maskrcnn_c4', seeded=False),
    fdsr_a1b1=dict(config=_fdsr + 'maskrcnn-r50c4-a1b1_1xb8-2000k_coco20k.py', alpha=1.,
                   beta=1., prior='maskrcnn_c4', seeded=False),
    fdsr_a1b05=dict(config=_fdsr + 'maskrcnn-r50c4-a1b0.5_1xb8-2000k_coco20k.py', alpha=1.,
                    beta=0.5, prior='maskrcnn_c4', seeded=False),
    fdsr_vgg19=dict(config=_fdsr + 'vgg19-54-imagenet-a0.5b1_1xb8-2000k_coco20k.py', alpha=0.5,
                    beta=1., prior='vgg19', seeded=False),
    fdsr_r50imagenet=dict(config=_fdsr + 'r50c4-imagenet-a0.5b1_1xb8-2000k_coco20k.py',
                          alpha=0.5, beta=1., prior='r50_imagenet', seeded=False))

# Table 1's other SR baselines as released (MMagic's EDSR x4, the RCAN authors' RCAN_BIX4.pt).
sr_checkpoints = dict(
    edsr=dict(config='configs/edsr/edsr_x4c64b16_1xb8-2000k_coco20k.py',
              checkpoint='checkpoints/edsr_x4c64b16_1x16_300k_div2k_20200608-3c2af8a3.pth'),
    rcan=dict(config='configs/rcan/rcan_x4c64g10b20_1xb8-2000k_coco20k.py',
              checkpoint='checkpoints/RCAN_BIX4.pt'))

# Cascades: Table 1 on Faster R-CNN R50-FPN (with every Fig. 3 fine-tune and the Fig. 1 panels),
# Table 2 on the other three.
_table2 = ['hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'fdsr']
evaluators = dict(
    faster_rcnn=dict(methods=['hr', 'bicubic', 'edsr', 'rcan', 'dbpn_pretrained', 'dbpn', 'fdsr'],
                     seeded=['dbpn', 'fdsr']),
    faster_rcnn_r101=dict(methods=_table2, seeded=['dbpn', 'fdsr']),
    retinanet=dict(methods=_table2, seeded=['dbpn', 'fdsr']),
    cascade_rcnn=dict(methods=_table2, seeded=['dbpn', 'fdsr']))

# The paper's claims, each beside its numbers (Table 1, Table 2, Fig. 3), judged "b > a" on AP.
_fig3 = 'Fig. 3: FDSR above the ImageNet priors'
_table2_paper = dict(faster_rcnn=('37.7', '22.3', '26.5', '29.6'),
                     faster_rcnn_r101=('39.4', '25.2', '28.2', '31.4'),
                     retinanet=('36.4', '22.2', '25.7', '28.6'),
                     cascade_rcnn=('40.4', '24.5', '28.4', '31.7'))
_claims = [('HR > bicubic (the x4 problem)', 'bicubic', 'hr', 0, 1),
           ('D-DBPN > bicubic', 'bicubic', 'dbpn_pretrained', 2, 1),
           ('FDSR > D-DBPN (official, no fine-tune)', 'dbpn_pretrained', 'fdsr', 3, 2),
           ('FDSR > D-DBPN fine-tuned pixel-only (control)', 'dbpn', 'fdsr', 3, None)]
_table1_fig3 = [  # (claim, a, b, the paper's numbers) on Faster R-CNN R50-FPN
    ('FDSR > EDSR', 'edsr', 'fdsr', '29.6 vs 26.7'),
    ('FDSR > RCAN', 'rcan', 'fdsr', '29.6 vs 26.5'),
    ('mixed (a0.5 b1) > feature-only (a0 b1)', 'fdsr_a0b1', 'fdsr', '29.6 vs 27.0'),
    ('detector prior > ImageNet VGG19-54 prior', 'fdsr_vgg19', 'fdsr', _fig3),
    ('detector prior > ImageNet ResNet50-C4 prior', 'fdsr_r50imagenet', 'fdsr', _fig3)]
claims = {  # the paper has the pixel-only fine-tune on Faster R-CNN R50-FPN only (Fig. 3: 26.5)
    **{f'{e}:{b}>{a}': dict(evaluator=e, text=t, a=a, b=b, metric='AP',
                            paper=(f'{p[i]} vs {p[j]}' if j is not None else
                                   f'{p[i]} vs 26.5' if e == 'faster_rcnn' else ''))
       for e, p in _table2_paper.items() for t, a, b, i, j in _claims},
    **{f'faster_rcnn:{b}>{a}': dict(evaluator='faster_rcnn', text=t, a=a, b=b, metric='AP',
                                    paper=p) for t, a, b, p in _table1_fig3}}

report = dict(
    title='FDSR at paper scale: COCO 2017 (Tables 1-2, Fig. 3)',
    description=(
        'COCO 2017: SR fine-tuned on 20k train2017 images (both sides > 384 px), every method '
        'evaluated on val2017 (x4 bicubic LR -> SR -> detector, scored against the HR '
        'annotations). D-DBPN x4 from the authors\' DIV2K weights ("dbpn_pretrained", the '
        'paper\'s D-DBPN row), fine-tuned pixel-only ("dbpn", the fair control) and with the '
        'frozen Mask R-CNN R50-C4 backbone as feature prior ("fdsr", alpha 0.5, beta 1) on the '
        'same data and schedule; EDSR and RCAN as released; mmdet\'s released detectors.'),
    table_methods=_table2,
    fig3_methods=['dbpn', 'fdsr_a0b1', 'fdsr_a025b1', 'fdsr', 'fdsr_a1b1', 'fdsr_a1b05'],
    other_priors=dict(fdsr_vgg19='ImageNet VGG19-54', fdsr_r50imagenet='ImageNet ResNet50-C4'))
