# Miniature study, Fig. 3 "classifier" prior: FDSR (alpha 0.5, beta 1) as the c4prior config, with
# the C4 backbone trained as an object-crop classifier as the frozen prior. detector_config stays
# the C4 detector config (the classifier's `backbone.*` keys match it); feature_loss.checkpoint is
# the last checkpoint of ../classifiers/r18-c16-c4_crop-cls_1xb32-800i_synthetic-coco.py.
_base_ = ['./fdsr_dbpn-small_x4_c4prior-a0.5b1_1xb8-300i_synthetic-coco-ft.py']
