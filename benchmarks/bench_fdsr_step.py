"""Cost of the feature-driven loss: one FDSR training step vs one pixel-only step, same batch.

Both models share the generator weights and the batch; steps alternate (pixel, FDSR, pixel, ...)
so machine load affects both alike, and the ratio of medians is printed together with where the
extra time goes (HR features without grad, SR features with grad, backward through the frozen
backbone into the SR image).

    python benchmarks/bench_fdsr_step.py                 # small variants (the CPU target)
    python benchmarks/bench_fdsr_step.py --prior r50c4   # the paper's R50-C4 prior
    python benchmarks/bench_fdsr_step.py --generator ddbpn --prior r50c4 --batch 2 --steps 3

Target (issue #5): ratio <= 1.35 at paper-like crops (HR 160, LR 40, batch 8) with small variants.
"""
import argparse
import statistics
import time

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import fdsr_mm  # noqa: F401
from _bench_common import median_seconds  # benchmarks/ (the script's folder)
from mmagic.registry import MODELS
from mmagic.structures import DataSample

GENERATORS = {
    'dbpn-t2': dict(type='DBPN', mid_channels=32, base_channels=16, num_stages=2),
    'dbpn-t3': dict(type='DBPN', mid_channels=32, base_channels=16, num_stages=3),
    'ddbpn': dict(type='DBPN'),  # the paper's D-DBPN x4 (10.4M parameters)
}
C4 = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'
PRIORS = {  # (detector config, cfg options)
    'r18c4-32': (C4, {'model.backbone.depth': 18, 'model.backbone.base_channels': 32}),
    'r18c4': (C4, {'model.backbone.depth': 18}),
    'r50c4': (C4, None),  # the paper's Mask R-CNN R50-C4 backbone
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--generator', choices=GENERATORS, default='dbpn-t3')
    p.add_argument('--prior', choices=PRIORS, default='r18c4-32')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--hr-size', type=int, default=160)
    p.add_argument('--steps', type=int, default=7)
    p.add_argument('--threads', type=int, default=2)
    return p.parse_args()


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(cfg)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    pre = dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.])
    gen = dict(GENERATORS[args.generator], scale=4)
    config, options = PRIORS[args.prior]
    pixel = build(dict(type='BaseEditModel', generator=gen, data_preprocessor=pre,
                       pixel_loss=dict(type='L1Loss', loss_weight=0.5)))
    fdsr = build(dict(type='FDSR', generator=gen, data_preprocessor=pre,
                      pixel_loss=dict(type='L1Loss', loss_weight=0.5),
                      feature_loss=dict(type='DetectorFeatureLoss', detector_config=config,
                                        detector_cfg_options=options, checkpoint=None)))
    fdsr.generator.load_state_dict(pixel.generator.state_dict())
    optim_cfg = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
    opt_pix, opt_fdsr = build_optim_wrapper(pixel, optim_cfg), build_optim_wrapper(fdsr, optim_cfg)

    hr_size, lr_size = args.hr_size, args.hr_size // 4
    gt = torch.randint(0, 256, (args.batch, 3, hr_size, hr_size), dtype=torch.uint8)
    lr = torch.nn.functional.interpolate(gt.float(), size=lr_size, mode='area').round().byte()
    samples = []
    for i in range(args.batch):
        s = DataSample()
        s.gt_img = gt[i]
        samples.append(s)
    data = dict(inputs=list(lr), data_samples=samples)
    pixel.train()
    fdsr.train()

    # Alternate the two steps so that load changes hit both equally.
    t_pix, t_fdsr = [], []
    for step in range(args.steps + 1):
        for model, opt, out in ((pixel, opt_pix, t_pix), (fdsr, opt_fdsr, t_fdsr)):
            t0 = time.perf_counter()
            model.train_step(data, opt)
            if step:  # the first round is warm-up
                out.append(time.perf_counter() - t0)
    pix, full = statistics.median(t_pix), statistics.median(t_fdsr)

    # Where the extra time goes.
    loss = fdsr.feature_loss
    batch = fdsr.data_preprocessor(data, training=True)
    hr01 = fdsr._to_unit_rgb(batch['data_samples'].gt_img)
    sr01 = fdsr._to_unit_rgb(fdsr.generator(batch['inputs'])).detach()

    def hr_feats():
        with torch.no_grad():
            loss.extract(hr01)

    def sr_fwd():
        loss.extract(sr01.clone().requires_grad_())

    def sr_fwd_bwd():
        x = sr01.clone().requires_grad_()
        sum(f.square().mean() for f in loss.extract(x)).backward()

    t_hr = median_seconds(hr_feats, max(3, args.steps // 2))
    t_srf = median_seconds(sr_fwd, max(3, args.steps // 2))
    t_srfb = median_seconds(sr_fwd_bwd, max(3, args.steps // 2))
    n_gen = sum(p.numel() for p in fdsr.generator.parameters())
    n_prior = sum(p.numel() for p in loss.extractor.parameters())
    print(f'FDSR step cost | generator {args.generator} ({n_gen / 1e6:.2f}M params), prior '
          f'{args.prior} ({n_prior / 1e6:.2f}M, frozen), batch {args.batch}, HR {hr_size}px / '
          f'LR {lr_size}px, {args.threads} threads, median of {args.steps} steps')
    print(f'  pixel-only step (alpha*L1):          {pix:8.3f} s')
    print(f'  FDSR step (alpha*L1 + beta*feature):  {full:8.3f} s')
    print(f'  ratio FDSR / pixel-only:             {full / pix:8.2f}x   (target <= 1.35x)')
    print(f'  extra {full - pix:.3f} s, of which (measured separately):')
    print(f'    HR features, no grad:              {t_hr:8.3f} s')
    print(f'    SR features, forward with grad:    {t_srf:8.3f} s')
    print(f'    backward through the frozen prior: {max(t_srfb - t_srf, 0.):8.3f} s')


if __name__ == '__main__':
    main()
