# The FDSR paper's Table 3 at scale: SSD300 (VOC07+12) on VOC2007 test, HR resized to 300x300,
# x4 bicubic LR; D-DBPN as released, TDSR (D-DBPN fine-tuned through the frozen SSD300's own loss
# on VOC07+12 trainval) and the COCO-trained FDSR and pixel-only D-DBPN of paper_coco.py applied
# unchanged; every stated difference with its paired bootstrap interval and the Holm-adjusted
# verdict.
#   python tools/run_study.py configs/study/paper_coco.py ...      # first: FDSR and D-DBPN
#   python tools/run_study.py configs/study/paper_voc.py --launcher pytorch --gpus 8
# Put in place first: data/VOCdevkit/VOC2007 and VOC2012 (mmdet's layout), checkpoints/DBPN_x4.pth
# (the authors' x4 weights) and the SSD300 model-zoo file named below. Keys: fdsr_mm/study/spec.py.

sizes = dict(full=dict(ft_iters=None, panels=6, resamples=1000),
             quick=dict(ft_iters=5000, panels=2, resamples=200))

# PASCAL VOC where it is (checked: these lists must exist).
data = dict(voc=dict(root='data/VOCdevkit', outputs=[
    'VOC2007/ImageSets/Main/trainval.txt', 'VOC2007/ImageSets/Main/test.txt',
    'VOC2012/ImageSets/Main/trainval.txt']))

# The evaluator, and TDSR's task network: mmdet's released SSD300 VOC0712.
detectors = dict(ssd300=dict(
    config='configs/detectors/ssd300_voc0712.py', data='voc',
    checkpoint='checkpoints/ssd300_voc0712_20220320_194658-17edda1b.pth'))

# D-DBPN x4 as the authors released it (converted): TDSR's start and the "D-DBPN" row.
sr_pretrain = dict(config='configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py', method='dbpn_pretrained',
                   convert='checkpoints/DBPN_x4.pth')

# TDSR (configs/tdsr/README.md): its data read from the voc stage's root (VOC07+12 trainval for
# training, VOC2007 test for validation), its weights from sr_pretrain (not the init_cfg file).
_voc = '{data}/'
task_finetunes = dict(tdsr=dict(
    config='configs/tdsr/tdsr_ddbpn-x4_ssd300-voc0712-a1g0.1_1xb8-2000k_voc0712.py',
    detector='ssd300',
    options=[f'train_dataloader.dataset.datasets.0.det_dataset.data_root={_voc}',
             f'train_dataloader.dataset.datasets.1.det_dataset.data_root={_voc}',
             f'val_dataloader.dataset.det_dataset.data_root={_voc}',
             f'test_dataloader.dataset.det_dataset.data_root={_voc}',
             'model.generator.init_cfg=None']))

# The COCO study's fine-tunes, applied to VOC without fine-tuning (a work dir: its last
# checkpoint). Run paper_coco.py first, or point these at your own files.
sr_checkpoints = dict(
    fdsr=dict(config='configs/fdsr_x4.py', checkpoint='work_dirs/paper_coco/sr_fdsr'),
    dbpn=dict(config='configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py',
              checkpoint='work_dirs/paper_coco/sr_dbpn'))

evaluators = dict(ssd300=dict(
    methods=['hr', 'bicubic', 'dbpn_pretrained', 'dbpn', 'tdsr', 'fdsr'], seeded=['tdsr'],
    table3=True))

# Table 3's claims on mAP, beside the paper's numbers.
_t3 = [('HR > bicubic (the x4 problem)', 'bicubic', 'hr', '77.43 vs 48.85'),
       ('D-DBPN > bicubic', 'bicubic', 'dbpn_pretrained', '59.81 vs 48.85'),
       ('TDSR > D-DBPN', 'dbpn_pretrained', 'tdsr', '67.96 vs 59.81'),
       ('FDSR (COCO-trained) > D-DBPN', 'dbpn_pretrained', 'fdsr', '67.98 vs 59.81'),
       ('FDSR (COCO-trained) > TDSR (paper: equal)', 'tdsr', 'fdsr', '67.98 vs 67.96')]
claims = {f'ssd300:{b}>{a}': dict(evaluator='ssd300', text=t, a=a, b=b, metric='mAP', paper=p)
          for t, a, b, p in _t3}

report = dict(
    title='FDSR at paper scale: PASCAL VOC 2007 (Table 3)',
    description=(
        'SSD300 (VOC07+12, model zoo) on VOC2007 test: HR resized to 300x300, x4 bicubic LR, SR, '
        'detect; mAP is mmdet\'s VOCMetric (11 points, IoU 0.5). D-DBPN as released '
        '("dbpn_pretrained"), TDSR fine-tuned from it through the frozen SSD300\'s loss on '
        'VOC07+12 trainval, and the COCO-trained pixel-only D-DBPN ("dbpn") and FDSR applied '
        'without fine-tuning.'),
    fig3_methods=[], other_priors=dict())
