# A child study spec: the miniature study plus one SR variant (FDSR with beta 2: twice the feature
# term, the C4 detector prior, same start and schedule) and its claim; no code changes.
#   python tools/run_study.py configs/study/examples/miniature_plus_variant.py --dry-run
_base_ = ['../miniature.py']

sr_variants = dict(fdsr_a05b2=dict(
    config='configs/study/sr/fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py',
    cfg_options=['model.feature_loss.loss_weight=2'], alpha=0.5, beta=2., prior='c4'))

claims = {'faster_rcnn:fdsr_a05b2>dbpn': dict(
    evaluator='faster_rcnn', text='FDSR beta 2 > D-DBPN fine-tune (control)', a='dbpn',
    b='fdsr_a05b2', metric='AP', paper='Fig. 3: beta > 0 helps over pixel-only')}
