"""Cascade throughput vs the sum of bare SR and bare detector forward times on the same images.

    python benchmarks/bench_cascade.py [--num-images 100] [--image-size 256] [--threads 1]
                                       [--repeats 5] [--dbpn 64,18,2] [--skip-iq]

Setup: synthetic COCO-format images (fdsr_mm.datasets.synthetic_coco), a DBPN x4 generator
(default mid 64 / base 18 / T=2, ``--dbpn`` to change; bicubic residual, random init) and a
RetinaNet ResNet-18 FPN (base 32 channels, random init; test pipeline resizes to the image size;
``score_thr=0`` so that every image yields its 100 detections, as a trained detector does, and
CocoMetric has real work: a random-init head scores ~0.01 everywhere).

* ``bare SR``: ``super_resolve_image`` on the pre-made LR arrays (no I/O, no metrics, warmed up).
* ``bare detector``: ``model.test_step`` on pre-collated batches of the SR images (no I/O, no
  pipeline, no metric, warmed up).
* ``cascade``: ``run_cascade(methods=[dbpn])`` from an empty cache, everything included: config
  loading, Runner, HR read/mod-crop/PNG cache, bicubic LR, SR (first call included), PNG writes,
  test pipeline, CocoMetric, tables. Models use ``--threads`` torch threads in all three; the
  cascade also runs its image I/O in background threads, next to the model, as mmdet's
  dataloader workers do.

The three are measured in ``--repeats`` interleaved rounds: the speed of these shared machines
drifts by +-10% within a minute, so each cascade run is compared with the mean of the bare runs
just before and just after it. Printed:

* ``overhead_vs_bare``: median over rounds of ``cascade / (bare SR + bare detector) - 1`` (the
  target);
* ``overhead_vs_fastest_bare``: the fastest cascade over the fastest bare runs (``timeit``-style);
* ``overhead_in_run``: median of ``cascade / (SR forwards + detector test iterations timed inside
  that run) - 1``, i.e. with model time taken in the same seconds as the whole, insensitive to
  drift between runs (a slow-down of the model by the I/O threads beside it counts as model
  time there, and as overhead in the other two).

Then, once each, the cascade with PSNR/PSNR-Y/SSIM and with FSIM/FSIMc too: image-quality metrics
are extra measurements, not the protocol's own cost. One JSON line per measurement.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import tempfile
import time

DET_CFG = '''
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['fdsr_mm'], allow_failed_imports=False)
default_scope = 'mmdet'
classes = {classes!r}
model = dict(backbone=dict(depth=18, base_channels=32, init_cfg=None),
             neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
             bbox_head=dict(num_classes={n}, in_channels=64, feat_channels=64),
             test_cfg=dict(score_thr=0.0))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=({s}, {s}), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
test_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                       dataset=dict(data_root={root!r}, ann_file='annotations/instances_val.json',
                                    data_prefix=dict(img='val/'), metainfo=dict(classes=classes),
                                    pipeline=test_pipeline))
test_evaluator = dict(ann_file={root!r} + '/annotations/instances_val.json')
default_hooks = dict(logger=dict(interval=10000))
log_level = 'WARNING'
'''
SR_CFG = '''
model = dict(type='BaseEditModel',
             generator=dict(type='DBPN', mid_channels={mid}, base_channels={base},
                            num_stages={stages}, dense=False, scale=4, bicubic_residual=True),
             pixel_loss=dict(type='L1Loss'))
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=100)
    parser.add_argument('--image-size', type=int, default=256)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--dbpn', default='64,18,2', help='DBPN mid,base,stages (default '
                        '64,18,2; 128,32,4 is DBPN-M-like)')
    parser.add_argument('--repeats', type=int, default=5,
                        help='interleaved rounds of (bare SR, bare detector, cascade)')
    parser.add_argument('--skip-iq', action='store_true',
                        help='only the cascade without image-quality metrics')
    parser.add_argument('--keep', help='keep the work folder here')
    args = parser.parse_args()

    import cv2
    import torch
    torch.set_num_threads(args.threads)
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope

    from fdsr_mm.apis import run_cascade, super_resolve_image
    from fdsr_mm.datasets.synthetic_coco import SYNTHETIC_COCO_CLASSES, write_synthetic_coco
    from fdsr_mm.datasets.transforms.bicubic import bicubic_downsample
    from mmagic.registry import MODELS as MMAGIC_MODELS
    from mmdet.registry import DATASETS, MODELS

    work = args.keep or tempfile.mkdtemp(prefix='bench_cascade_')
    data = osp.join(work, 'data')
    write_synthetic_coco(data, num_train=0, num_val=args.num_images,
                         image_size=args.image_size, seed=0)
    det_cfg = osp.join(work, 'det.py')
    with open(det_cfg, 'w') as f:
        f.write(DET_CFG.format(classes=tuple(SYNTHETIC_COCO_CLASSES),
                               n=len(SYNTHETIC_COCO_CLASSES), s=args.image_size, root=data))
    sr_cfg = osp.join(work, 'sr.py')
    with open(sr_cfg, 'w') as f:
        mid, base, stages = map(int, args.dbpn.split(','))
        f.write(SR_CFG.format(mid=mid, base=base, stages=stages))
    torch.manual_seed(0)
    cfg = Config.fromfile(det_cfg)
    with DefaultScope.overwrite_default_scope('mmdet'):
        det = MODELS.build(cfg.model)
    det.init_weights()
    det.eval()
    det_ckpt = osp.join(work, 'det.pth')
    torch.save(dict(state_dict=det.state_dict()), det_ckpt)
    with DefaultScope.overwrite_default_scope('mmagic'):
        sr_model = MMAGIC_MODELS.build(Config.fromfile(sr_cfg).model)
    sr_ckpt = osp.join(work, 'sr.pth')
    torch.save(dict(state_dict=sr_model.state_dict()), sr_ckpt)
    gen = sr_model.generator.eval()

    names = sorted(os.listdir(osp.join(data, 'val')))
    hrs = [cv2.cvtColor(cv2.imread(osp.join(data, 'val', n)), cv2.COLOR_BGR2RGB) for n in names]
    lrs = [bicubic_downsample(h, 4) for h in hrs]
    super_resolve_image(gen, lrs[0], 4)  # warm-up

    def bare_sr():
        """SR forward on the LR arrays (no I/O, no metrics)."""
        t0 = time.perf_counter()
        srs = [super_resolve_image(gen, lr, 4, tile=200) for lr in lrs]
        return time.perf_counter() - t0, srs

    # bare detector forward on pre-collated SR images (pipeline run beforehand, not timed)
    _, srs = bare_sr()
    sr_dir = osp.join(work, 'sr_bare')
    os.makedirs(sr_dir)
    for n, s in zip(names, srs):
        cv2.imwrite(osp.join(sr_dir, n), cv2.cvtColor(s, cv2.COLOR_RGB2BGR))
    ds_cfg = cfg.test_dataloader.dataset.copy()
    ds_cfg.data_prefix = dict(img=sr_dir + '/')
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(ds_cfg)
        batches = [pseudo_collate([dataset[i]]) for i in range(len(dataset))]
    with torch.no_grad():
        det.test_step(batches[0])  # warm-up

    def bare_det():
        t0 = time.perf_counter()
        with torch.no_grad():
            for b in batches:
                det.test_step(b)
        return time.perf_counter() - t0

    def cascade(tag, iq):
        out = osp.join(work, 'out_' + tag)
        shutil.rmtree(out, ignore_errors=True)  # empty cache: every image is super-resolved
        kwargs = dict(iq_metrics=iq) if iq is not None else {}
        t0 = time.perf_counter()
        res = run_cascade(det_cfg, det_ckpt, [f'dbpn={sr_cfg}:{sr_ckpt}'], out, progress=False,
                          **kwargs)
        return time.perf_counter() - t0, res

    # Interleaved rounds; the bare runs bracket the cascade (before + after, averaged) so that a
    # drift of machine speed during the round hits both sides alike.
    rounds = []
    t_sr_before, t_det_before = bare_sr()[0], bare_det()
    for r in range(args.repeats):
        t_cas, res = cascade('r%d' % r, [])
        t_sr_after, t_det_after = bare_sr()[0], bare_det()
        t_sr, t_det = (t_sr_before + t_sr_after) / 2, (t_det_before + t_det_after) / 2
        t_sr_before, t_det_before = t_sr_after, t_det_after
        m = res['methods']['dbpn']
        model_s = m['sr_seconds'] + m['det_iter_seconds']  # the same forwards, inside the run
        rounds.append(dict(sr=t_sr, det=t_det, cascade=t_cas, model=model_s, res=res))
        print(json.dumps(dict(measure='round', round=r, bare_sr_s=round(t_sr, 3),
                              bare_det_s=round(t_det, 3), cascade_s=round(t_cas, 3),
                              overhead_vs_bare=round(t_cas / (t_sr + t_det) - 1, 3),
                              cascade_model_s=round(model_s, 3),
                              overhead_in_run=round(t_cas / model_s - 1, 3))), flush=True)
    med = {k: statistics.median(x[k] for x in rounds) for k in ('sr', 'det', 'cascade')}
    res = sorted(rounds, key=lambda x: x['cascade'])[len(rounds) // 2]['res']
    m = res['methods']['dbpn']
    common = dict(images=args.num_images, size=args.image_size, threads=args.threads,
                  dbpn=args.dbpn, repeats=args.repeats)
    rows = [dict(measure='bare SR (median)', seconds=round(med['sr'], 3)),
            dict(measure='bare detector (median)', seconds=round(med['det'], 3)),
            dict(measure='cascade, no IQ metrics (median)', seconds=round(med['cascade'], 3),
                 sr_seconds=round(m['sr_seconds'], 3), det_loop_seconds=round(m['det_seconds'], 3),
                 det_iter_seconds=round(m['det_iter_seconds'], 3),
                 **{k: round(v, 3) for k, v in res['timing'].items()},
                 overhead_vs_bare=round(statistics.median(
                     x['cascade'] / (x['sr'] + x['det']) - 1 for x in rounds), 3),
                 overhead_vs_fastest_bare=round(min(x['cascade'] for x in rounds) / (
                     min(x['sr'] for x in rounds) + min(x['det'] for x in rounds)) - 1, 3),
                 overhead_in_run=round(statistics.median(
                     x['cascade'] / x['model'] - 1 for x in rounds), 3))]
    if not args.skip_iq:
        for tag, label, iq in (('iq', 'cascade + PSNR, PSNR-Y, SSIM', ['psnr', 'psnr_y', 'ssim']),
                               ('fsim', 'cascade + PSNR, PSNR-Y, SSIM, FSIM, FSIMc', None)):
            t_cas, _ = cascade(tag, iq)
            rows.append(dict(measure=label, seconds=round(t_cas, 3),
                             overhead_vs_bare=round(t_cas / (med['sr'] + med['det']) - 1, 3)))
    for r in rows:
        print(json.dumps(dict(r, **common)))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
