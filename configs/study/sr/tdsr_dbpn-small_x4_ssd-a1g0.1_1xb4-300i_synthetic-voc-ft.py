# Miniature study, Table 3: TDSR. The pre-trained small DBPN (tools/run_study.py sets load_from)
# fine-tuned with the TDSR model of the paper config (alpha 1, beta 0, gamma 0.1) through the
# study's frozen SSD (detector_config/checkpoint set by tools/run_study.py), on the synthetic VOC
# trainval images with their boxes (HR 300x300, LR 75x75, flips), for the same 300 iterations at
# the same constant lr 1e-3 as the DBPN/FDSR fine-tunes.
_base_ = ['../_base_/tdsr_dbpn-small_x4_300i-ft.py',
          '../../_base_/datasets/synthetic-voc_tdsr_x4.py']

model = dict(task_loss=dict(
    detector_config='fdsr_mm::study/detectors/ssd300_r18-c16_1xb8-1000i_synthetic-voc.py'))
