# The paper's "D-DBPN" row and the pixel-only point of Fig. 3: the FDSR setting with beta = 0
# (no feature term is built), i.e. the official D-DBPN x4 fine-tuned with alpha * L1 only on the
# same data and schedule. Convert the official weights first:
#   python tools/convert_dbpn_official.py DBPN_x4.pth checkpoints/dbpn_x4_official.pth
_base_ = ['../fdsr/fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(feature_loss=dict(loss_weight=0.))
