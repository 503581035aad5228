# Miniature study, Fig. 3 "random" prior: FDSR (alpha 0.5, beta 1) as the c4prior config, with an
# UNTRAINED C4 backbone as the frozen prior. The study passes the C4 detector config as
# model.feature_loss.detector_config and, as model.feature_loss.checkpoint, the file written by
# `tools/init_detector_checkpoint.py <C4 detector config> <random prior .pth> --seed 0`.
_base_ = ['./fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py']
