# COCO train2017 HR images with their boxes for task-driven SR: the VOC TDSR data settings
# (./voc0712_tdsr_x4.py: 300x300 HR, 75x75 LR by the shared bicubic x1/4, flips) on COCO, parsed
# by mmdet's CocoDataset (iscrowd boxes go to `ignored_instances`; labels are 0-based indices of
# the 80 classes). Validation: PSNR/SSIM of val2017 resized to 300x300.
# Data: data/coco/{train2017,val2017,annotations/instances_{train,val}2017.json} (mmdet's layout).
_base_ = ['./voc0712_tdsr_x4.py']

data_root = 'data/coco/'
metainfo = dict(task_name='sisr')
train_dataloader = dict(
    dataset=dict(
        _delete_=True, type='SRDetectionDataset', metainfo=metainfo,
        pipeline={{_base_.train_pipeline}},
        det_dataset=dict(type='CocoDataset', data_root=data_root,
                         ann_file='annotations/instances_train2017.json',
                         data_prefix=dict(img='train2017/'),
                         filter_cfg=dict(filter_empty_gt=True, min_size=32))))
val_dataloader = dict(
    dataset=dict(
        det_dataset=dict(_delete_=True, type='CocoDataset', data_root=data_root,
                         ann_file='annotations/instances_val2017.json',
                         data_prefix=dict(img='val2017/'))))
test_dataloader = val_dataloader
