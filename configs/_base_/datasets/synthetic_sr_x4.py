# Synthetic HR images written by `python tools/make_synthetic_sr.py data/synthetic_sr`, with the
# COCO SR pipelines unchanged (HR crops of up to 160 px, LR by the shared MATLAB-like bicubic x1/4,
# flips), so what is tested on CPU is what runs on COCO. Small images are used whole.
_base_ = ['./coco_sr_x4.py']

data_root = 'data/synthetic_sr'
metainfo = dict(dataset_type='synthetic_sr', task_name='sisr')
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='', data_prefix=dict(gt='train'),
                 metainfo=metainfo))
val_dataloader = dict(
    num_workers=0,
    dataset=dict(data_root=data_root, ann_file='', data_prefix=dict(gt='val'), metainfo=metainfo))
test_dataloader = val_dataloader
