# Benchmark study (issue 21), transfer matrix: TDSR through the study's RetinaNet instead of its
# Faster R-CNN; nothing else changes.
_base_ = ['./tdsr_dbpn-small_x4_frcnn-a1g0.1_1xb4-300i_synthetic-coco-ft.py']

model = dict(task_loss=dict(
    detector_config='fdsr_mm::study/detectors/retinanet_r18-c16-fpn_1xb4-2000i_synthetic-coco.py'))
