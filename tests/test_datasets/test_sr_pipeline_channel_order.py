"""Through the config pipeline + MMagic model: SR output and GT reach the metrics in one order."""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmagic.registry import DATASETS, MODELS

CONFIG = 'configs/dbpn/dbpn-tiny_x4_1xb4-200i_synthetic.py'


def test_val_step_returns_pred_and_gt_in_the_same_channel_order(repo_root, synthetic_sr_root):
    cfg = Config.fromfile(f'{repo_root}/{CONFIG}')
    cfg.val_dataloader.dataset.data_root = synthetic_sr_root
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model).eval()
        sample = DATASETS.build(cfg.val_dataloader.dataset)[0]
    lr, gt_rgb = sample['inputs'], sample['data_samples'].gt_img  # (3, h, w) uint8 RGB
    assert lr.shape[-2:] == tuple(s // 4 for s in gt_rgb.shape[-2:])
    out = model.val_step(dict(inputs=[lr], data_samples=[sample['data_samples']]))[0]
    with torch.no_grad():
        sr_rgb = model.generator(lr[None].float() / 255)[0].clamp(0, 1) * 255
    # Whatever order MMagic hands to the metrics (it converts to BGR), both use the same one.
    if torch.equal(out.gt_img.to(gt_rgb.dtype), gt_rgb):
        expected = sr_rgb
    else:
        assert torch.equal(out.gt_img.to(gt_rgb.dtype), gt_rgb.flip(0))
        expected = sr_rgb.flip(0)
    torch.testing.assert_close(out.output.pred_img, expected, atol=1e-3, rtol=0)


def test_lr_input_is_the_shared_bicubic_degradation_of_gt(repo_root, synthetic_sr_root):
    from fdsr_mm.datasets import bicubic_downsample
    cfg = Config.fromfile(f'{repo_root}/{CONFIG}')
    cfg.val_dataloader.dataset.data_root = synthetic_sr_root
    with DefaultScope.overwrite_default_scope('mmagic'):
        sample = DATASETS.build(cfg.val_dataloader.dataset)[0]
    gt = sample['data_samples'].gt_img.permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(sample['inputs'].permute(1, 2, 0).numpy(),
                                  bicubic_downsample(np.ascontiguousarray(gt), 4))
