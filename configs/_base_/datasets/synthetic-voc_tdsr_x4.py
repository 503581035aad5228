# The TDSR data pipelines of voc0712_tdsr_x4.py (HR 300x300 + boxes, flips, LR 75x75 by the shared
# bicubic operator) on the synthetic VOC-format set of `python tools/make_synthetic_voc.py
# data/synthetic_voc` (VOC2007 layout, trainval/test, the five synthetic categories), for CPU runs.
_base_ = ['./voc0712_tdsr_x4.py']

data_root = 'data/synthetic_voc/'
classes = ('striped', 'checkered', 'dotted', 'scribbled', 'ringed')  # SYNTHETIC_COCO_CLASSES
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(
        _delete_=True, type='SRDetectionDataset', metainfo={{_base_.metainfo}},
        pipeline={{_base_.train_pipeline}},
        det_dataset=dict(type='VOCDataset', data_root=data_root, metainfo=dict(classes=classes),
                         ann_file='VOC2007/ImageSets/Main/trainval.txt',
                         data_prefix=dict(sub_data_root='VOC2007/'),
                         filter_cfg=dict(filter_empty_gt=True, min_size=8))))
val_dataloader = dict(
    num_workers=0,
    dataset=dict(det_dataset=dict(data_root=data_root, metainfo=dict(classes=classes))))
test_dataloader = val_dataloader
