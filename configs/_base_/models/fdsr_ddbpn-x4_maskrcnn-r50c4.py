# FDSR model of the paper: D-DBPN x4 initialised from the authors' DIV2K weights, trained with
# alpha * L1(SR, HR) + beta * MSE(F(SR), F(HR)), alpha = 0.5, beta = 1, where F is the frozen
# ResNet50-C4 backbone of Mask R-CNN (the paper's default feature prior).
# Files to put in checkpoints/ (nothing is downloaded at run time):
#   dbpn_x4_official.pth: python tools/convert_dbpn_official.py DBPN_x4.pth checkpoints/dbpn_x4_official.pth
#   faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth: MMDetection model zoo
#     (faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco). mmdet 3.x releases no Mask R-CNN R50-C4
#     weights; the Faster R-CNN R50-C4 caffe checkpoint has the identical backbone (same config
#     keys, same `backbone.` tensors). Point `checkpoint` at your own Mask R-CNN C4 file if you have one.
model = dict(
    type='FDSR',
    generator=dict(
        type='DBPN', scale=4,  # D-DBPN defaults: 256/64 channels, T=7, dense
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dbpn_x4_official.pth',
                      prefix='generator.')),
    pixel_loss=dict(type='L1Loss', loss_weight=0.5, reduction='mean'),  # alpha
    feature_loss=dict(
        type='DetectorFeatureLoss',
        detector_config='mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py',
        checkpoint='checkpoints/faster_rcnn_r50_caffe_c4_1x_coco_20220316_150152-3f885b85.pth',
        criterion='mse',
        loss_weight=1.0),  # beta
    train_cfg=dict(),
    test_cfg=dict(),
    # uint8 RGB -> RGB [0, 1] for the generator; FDSR maps SR/HR back to RGB [0, 1] for the loss.
    data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))
