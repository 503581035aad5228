"""Cascade results with made-up detections of known quality, for report and verdict tests."""
import json
import os
import os.path as osp

import numpy as np


def write_jittered_detections(run_dir: str, method: str, anns: list, rng: np.random.Generator,
                              jitter: float, found: float) -> dict:
    """``<run_dir>/methods/<method>/detections.bbox.json``: each ground-truth box found with
    probability ``found``, moved by N(0, ``jitter``) px; returns the method's results entry
    (made-up image quality, none for ``hr`` and ``lr_native`` as in the cascade's results;
    placeholder AP: the tests score the detections themselves)."""
    dets = [dict(image_id=a['image_id'], category_id=a['category_id'],
                 bbox=(np.array(a['bbox']) + rng.normal(0, jitter, 4)).tolist(),
                 score=float(rng.uniform(0.2, 1.0)))
            for a in anns if rng.uniform() < found]
    os.makedirs(osp.join(run_dir, 'methods', method))
    with open(osp.join(run_dir, 'methods', method, 'detections.bbox.json'), 'w') as f:
        json.dump(dets, f)
    return dict(iq={} if method in ('hr', 'lr_native') else dict(psnr=25.0, fsim=0.9), det=dict(
        AP=0.0, AP50=0.0, AP75=0.0, APS=None, APM=0.0, APL=None), sr_seconds=0.)


def fake_ground_truth(num_images: int, rng: np.random.Generator) -> dict:
    """A COCO json dict: ``num_images`` 256x256 images, 3 boxes of 60x60 px each, 2 classes."""
    images, anns = [], []
    for i in range(1, num_images + 1):
        images.append(dict(id=i, file_name=f'{i}.png', height=256, width=256))
        for _ in range(3):
            x, y = rng.uniform(0, 180, 2)
            anns.append(dict(id=len(anns) + 1, image_id=i, category_id=int(rng.integers(1, 3)),
                             iscrowd=0, bbox=[x, y, 60., 60.], area=3600.))
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='x'), dict(id=2, name='y')])
