"""A tiny SRDetector setup shared by the SRDetector, sr_detect and make_lr_coco tests: a config
written like configs/sr_detectors/*.py around a tiny detector, and the data + detector it uses."""
import os.path as osp

import torch

from conftest import REPO_ROOT
from helpers import cascade_testlib as lib

SR_DETECTOR = '''
_base_ = [{det_cfg!r}, {sr_base!r}]
model = dict(
    _delete_=True, type='SRDetector', detector={{{{_base_.model}}}},
    detector_test_pipeline={{{{_base_.test_pipeline}}}},
    sr=dict(generator=dict(type='InterpolationSR', scale={scale}, mode='nearest'),
            scale={scale}, tile={tile}),
    detector_checkpoint={ckpt!r}, sr_coords={sr_coords},
    data_preprocessor={{{{_base_.lr_data_preprocessor}}}})
test_dataloader = dict(dataset=dict(pipeline={{{{_base_.lr_test_pipeline}}}}))
val_dataloader = test_dataloader
'''


def write_sr_detector_config(path, det_cfg, ckpt, scale=4, tile=None, sr_coords=False):
    """A config built exactly like configs/sr_detectors/*.py around a tiny detector config."""
    sr_base = osp.join(REPO_ROOT, 'configs', 'sr_detectors', '_base_', 'fdsr-x4_lr-images.py')
    with open(path, 'w') as f:
        f.write(SR_DETECTOR.format(det_cfg=det_cfg, sr_base=sr_base, ckpt=ckpt, scale=scale,
                                   tile=tile, sr_coords=sr_coords))
    return str(path)


def tiny_setup(root):
    """A synthetic COCO val split (3 images of 64x72) and the tiny RetinaNet of cascade_testlib
    (config + random-init checkpoint) under ``root``."""
    torch.set_num_threads(1)
    data = str(root / 'data')
    lib.make_dataset(data, num_val=3, image_hw=(64, 72))
    det_cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    return dict(root=root, data=data, det_cfg=det_cfg, ckpt=ckpt)
