"""Throughput of SRDetector on LR images vs the bare detector on the HR images and the SR alone.

    python benchmarks/bench_sr_detector.py [--num-images 20] [--image-size 256] [--threads 1]
        [--repeats 3] [--dbpn 64,18,2 | --dbpn ddbpn] [--detector retinanet-r18 | faster-r50]
        [--device cpu|cuda]

Same images, one run: synthetic HR images (``--image-size`` square), LR = MATLAB-like bicubic
x1/4 of them. A DBPN x4 generator (``--dbpn mid,base,stages``, or ``ddbpn`` for the paper's
D-DBPN x4, 10.4M parameters) and a detector (``retinanet-r18``: RetinaNet ResNet-18/32 FPN;
``faster-r50``: mmdet's stock Faster R-CNN R50-FPN), both random-init (throughput does not depend
on the weights; ``score_thr=0`` so every image yields its full detection count as a trained model
does). The detector's test pipeline resizes to ``--image-size`` (keep ratio).

* ``bare detector on HR``: ``inference_detector`` on the HR arrays (pipeline + forward);
* ``SR alone``: ``super_resolve_image`` on the LR arrays (uint8 in, uint8 out);
* ``SRDetector on LR``: ``inference_detector`` of the SRDetector on the LR arrays (SR, quantise,
  the detector's pipeline, forward, boxes mapped to LR).

Interleaved rounds (each measured ``--repeats`` times after a warm-up); printed: images/s of each
(median of rounds), and ``srdet_vs_sum`` = SRDetector time / (SR alone + bare detector) - 1 (the
overhead of doing it as one model), one JSON line each. Run it on an idle machine.
"""
import argparse
import json
import os.path as osp
import statistics
import tempfile
import time

SR_CFG = '''
model = dict(type='BaseEditModel', generator={generator}, pixel_loss=dict(type='L1Loss'))
'''
DBPN_SMALL = ("dict(type='DBPN', mid_channels={}, base_channels={}, num_stages={}, dense=False, "
              "scale=4, bicubic_residual=True)")
DDBPN = "dict(type='DBPN', mid_channels=256, base_channels=64, num_stages=7, dense=True, scale=4)"
DETECTORS = {
    'retinanet-r18': '''
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
model = dict(backbone=dict(depth=18, base_channels=32, init_cfg=None),
             neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
             bbox_head=dict(in_channels=64, feat_channels=64), test_cfg=dict(score_thr=0.0))
''',
    'faster-r50': '''
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
model = dict(backbone=dict(init_cfg=None), test_cfg=dict(rcnn=dict(score_thr=0.0)))
'''}
DET_TAIL = '''
custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)
default_scope = 'mmdet'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=({s}, {s}), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor'))]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
'''
SRDET_CFG = '''
_base_ = [{det!r}, {sr_base!r}]
model = dict(_delete_=True, type='SRDetector', detector={{{{_base_.model}}}},
             detector_test_pipeline={{{{_base_.test_pipeline}}}},
             sr=dict(config={sr!r}, checkpoint={sr_ckpt!r}, scale=4, tile=None),
             detector_checkpoint={det_ckpt!r},
             data_preprocessor={{{{_base_.lr_data_preprocessor}}}})
test_dataloader = dict(dataset=dict(pipeline={{{{_base_.lr_test_pipeline}}}}))
'''


def write_models(work: str, args):
    """Write the SR, detector and SRDetector configs and random-init checkpoints."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmagic.registry import MODELS as MMAGIC_MODELS
    from mmdet.registry import MODELS
    gen = DDBPN if args.dbpn == 'ddbpn' else DBPN_SMALL.format(*map(int, args.dbpn.split(',')))
    paths = {k: osp.join(work, k) for k in ('sr.py', 'sr.pth', 'det.py', 'det.pth', 'srdet.py')}
    with open(paths['sr.py'], 'w') as f:
        f.write(SR_CFG.format(generator=gen))
    with open(paths['det.py'], 'w') as f:
        f.write(DETECTORS[args.detector] + DET_TAIL.format(s=args.image_size))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        sr = MMAGIC_MODELS.build(Config.fromfile(paths['sr.py']).model)
    torch.save(dict(state_dict=sr.state_dict()), paths['sr.pth'])
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = MODELS.build(Config.fromfile(paths['det.py']).model)
    det.init_weights()
    torch.save(dict(state_dict=det.state_dict()), paths['det.pth'])
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    with open(paths['srdet.py'], 'w') as f:
        f.write(SRDET_CFG.format(
            det=paths['det.py'], sr=paths['sr.py'], sr_ckpt=paths['sr.pth'],
            det_ckpt=paths['det.pth'],
            sr_base=osp.join(repo, 'configs', 'sr_detectors', '_base_', 'fdsr-x4_lr-images.py')))
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=20)
    parser.add_argument('--image-size', type=int, default=256)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--dbpn', default='64,18,2', help="mid,base,stages or 'ddbpn'")
    parser.add_argument('--detector', default='retinanet-r18', choices=sorted(DETECTORS))
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    import numpy as np

    import fdsr_mm  # noqa: F401
    from fdsr_mm.apis import super_resolve_image
    from fdsr_mm.apis.inferencers import init_sr_detector
    from fdsr_mm.datasets.synthetic_coco import synthetic_detection_image
    from fdsr_mm.datasets.transforms.bicubic import bicubic_downsample
    from mmdet.apis import inference_detector, init_detector

    work = tempfile.mkdtemp(prefix='bench_sr_detector_')
    paths = write_models(work, args)
    s = args.image_size
    hrs = [synthetic_detection_image(np.random.default_rng([0, i]), (s, s))[0][..., ::-1].copy()
           for i in range(args.num_images)]  # BGR uint8, as a loaded file
    lrs = [bicubic_downsample(h, 4) for h in hrs]
    det = init_detector(paths['det.py'], paths['det.pth'], device=args.device)
    srdet = init_sr_detector(paths['srdet.py'], device=args.device)
    gen = srdet.generator

    def sync():
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()

    def timed(fn):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - t0

    runs = {
        'bare detector on HR': lambda: [inference_detector(det, h) for h in hrs],
        'SR alone': lambda: [super_resolve_image(gen, lr[..., ::-1], 4, device=args.device)
                             for lr in lrs],
        'SRDetector on LR': lambda: [inference_detector(srdet, lr) for lr in lrs]}
    inference_detector(det, hrs[0])  # warm-up (first calls build caches, cudnn plans, ...)
    inference_detector(srdet, lrs[0])
    times = {k: [] for k in runs}
    for _ in range(args.repeats):
        for k, fn in runs.items():
            times[k].append(timed(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    common = dict(images=args.num_images, hr_size=s, lr_size=s // 4, threads=args.threads,
                  dbpn=args.dbpn, detector=args.detector, device=args.device,
                  repeats=args.repeats)
    for k, t in med.items():
        print(json.dumps(dict(measure=k, images_per_s=round(args.num_images / t, 3),
                              seconds=round(t, 3), **common)), flush=True)
    overhead = med['SRDetector on LR'] / (med['SR alone'] + med['bare detector on HR']) - 1
    print(json.dumps(dict(measure='srdet_vs_sum', value=round(overhead, 3),
                          srdet_vs_bare_detector=round(
                              med['SRDetector on LR'] / med['bare detector on HR'], 3),
                          **common)), flush=True)


if __name__ == '__main__':
    main()
