# Benchmark study (issue 21), transfer matrix: FDSR (alpha 0.5, beta 1) whose frozen prior is the
# backbone of an FPN evaluator (the study's Faster R-CNN or RetinaNet: tools/run_study.py sets
# detector_config and checkpoint from the spec's prior), at its stride-16 level (ResNet stage 3,
# the level of the paper's C4 prior); everything else as the C4-prior FDSR.
_base_ = ['./fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py']

model = dict(feature_loss=dict(feature_levels=(2, )))
