# TDSR model (Haris et al. 2018, the FDSR paper's Table 3): the FDSR restorer with the feature term
# off (beta 0) and the frozen SSD300 VOC0712 detector's own training loss on the SR image with the
# HR boxes (gamma): alpha * L1(SR, HR) + gamma * (loss_cls + loss_bbox). Why alpha 1, gamma 0.1:
# configs/tdsr/README.md. ssd300_voc0712_20220320_194658-17edda1b.pth: MMDetection model zoo.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4.py']

model = dict(
    pixel_loss=dict(loss_weight=1.0),  # alpha
    feature_loss=dict(loss_weight=0.),  # beta = 0: TDSR has no feature term (nothing is built)
    task_loss=dict(
        type='DetectorTaskLoss',
        detector_config='fdsr_mm::detectors/ssd300_voc0712.py',
        checkpoint='checkpoints/ssd300_voc0712_20220320_194658-17edda1b.pth',
        loss_weight=0.1))  # gamma
