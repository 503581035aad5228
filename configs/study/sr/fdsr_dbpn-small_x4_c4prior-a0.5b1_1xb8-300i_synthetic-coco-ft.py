# Miniature study, SR stage 2: FDSR (the paper's alpha 0.5, beta 1) with the study's C4 detector
# backbone as the frozen prior, from the same pre-trained weights and schedule as the D-DBPN row.
_base_ = ['./dbpn-small_x4_a0.5b0_1xb8-300i_synthetic-coco-ft.py']

model = dict(pixel_loss=dict(loss_weight=0.5), feature_loss=dict(loss_weight=1))
