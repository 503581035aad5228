# Benchmark study (issue 21), transfer matrix: TDSR through the study's Faster R-CNN FPN. The
# pre-trained small DBPN (tools/run_study.py sets load_from) fine-tuned with alpha 1, gamma 0.1
# through the frozen trained detector (detector_config/checkpoint set by tools/run_study.py), on
# the synthetic COCO train images at their own size with their boxes (LR 64x64, flips), for the
# SR fine-tunes' 300 iterations at their constant lr 1e-3.
_base_ = ['../_base_/tdsr_dbpn-small_x4_300i-ft.py',
          '../../_base_/datasets/synthetic-coco_tdsr_x4.py']

model = dict(task_loss=dict(
    detector_config='fdsr_mm::study/detectors/faster-rcnn_r18-c16-fpn_1xb4-1000i_synthetic-coco.py'))
