"""The cascade's LR degradation: a named option with its own SR cache per (degradation, seed),
LR images keyed by the HR file name, and results/tables that name it (tiny data, CPU)."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mmagic.datasets.transforms import MATLABLikeResize

from conftest import load_tool
from fdsr_mm.apis import CascadeOptions, run_cascade
from fdsr_mm.apis.cascade import CascadeError, SRMethod
from fdsr_mm.apis.cascade.methods import method_key
from fdsr_mm.datasets import degrade
from fdsr_mm.evaluation import load_results
from helpers import cascade_testlib as lib

cascade_eval = load_tool('cascade_eval')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('cascade_degradation')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=2, image_hw=(64, 72))
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    return dict(root=root, cfg=cfg, ckpt=ckpt)


def _snapshot(folder):
    return {f: (os.stat(osp.join(folder, f)).st_mtime_ns,
                hashlib.sha256(open(osp.join(folder, f), 'rb').read()).hexdigest())
            for f in sorted(os.listdir(folder))}


def _check_lr_keyed_by_file(out_dir, sr_dir, seed):
    """Each cached ``bicubic`` image is the MATLAB x4 upsampling of
    ``degrade(HR, 'realistic', seed, key=<HR file base name>)``."""
    index = json.load(open(osp.join(out_dir, 'eval_inputs', 'index.0.json')))
    hr_dir = osp.join(osp.dirname(sr_dir), 'hr')
    for path, entry in index.items():
        lr = degrade(lib.hr_png(hr_dir, entry['file']), 4, 'realistic', seed, osp.basename(path))
        up = MATLABLikeResize(keys=['img'], scale=4).transform(
            dict(img=lr.astype(np.float32)))['img']
        np.testing.assert_array_equal(lib.hr_png(sr_dir, entry['file']),
                                      np.clip(np.round(up), 0, 255).astype(np.uint8))


def test_realistic_caches_apart_from_bicubic_and_is_named(setup):
    root = setup['root']
    kw = dict(scale=4, cache_dir=str(root / 'cache'), iq_metrics=['psnr'], progress=False)
    run = lambda out, **o: run_cascade(setup['cfg'], setup['ckpt'], ['hr', 'bicubic'],  # noqa
                                       str(root / out), **kw, **o)
    # realistic first: its LR is made while the HR images are prepared
    real = run('realistic', degradation='realistic')
    real_dir = real['methods']['bicubic']['spec']['cache']
    assert osp.basename(real_dir) == 'bicubic-realistic-v1-seed0'
    _check_lr_keyed_by_file(str(root / 'realistic'), real_dir, seed=0)
    before = _snapshot(real_dir)

    bic = run('bicubic')  # the default: the cache key of every earlier version
    bic_dir = bic['methods']['bicubic']['spec']['cache']
    assert osp.basename(bic_dir) == 'bicubic-bicubic-matlab'
    assert osp.dirname(bic_dir) == osp.dirname(real_dir)  # same dataset, HR images shared
    assert bic['methods']['hr']['spec']['cache'] == real['methods']['hr']['spec']['cache']
    assert bic['methods']['hr']['det'] == real['methods']['hr']['det']
    assert bic['methods']['bicubic']['iq']['psnr'] != real['methods']['bicubic']['iq']['psnr']

    seed1 = run('realistic_seed1', degradation='realistic', degradation_seed=1)
    seed1_dir = seed1['methods']['bicubic']['spec']['cache']
    assert osp.basename(seed1_dir) == 'bicubic-realistic-v1-seed1'
    _check_lr_keyed_by_file(str(root / 'realistic_seed1'), seed1_dir, seed=1)  # HR from cache
    assert _snapshot(real_dir) == before  # no other run touched the seed-0 cache

    for out, tag, name, seed, caption in (
            ('bicubic', 'bicubic-matlab', 'bicubic', None, 'x4 bicubic degradation;'),
            ('realistic_seed1', 'realistic-v1-seed1', 'realistic', 1,
             'x4 realistic degradation (seed 1);')):
        saved = load_results(str(root / out / 'results.json'))
        assert (saved['degradation'], saved['degradation_name'], saved['degradation_seed']) == \
            (tag, name, seed)
        assert caption in open(root / out / 'table1.md').read()


def test_options_validate_and_key_the_degradation():
    opts = lambda **o: CascadeOptions('d.py', 'd.pth', ['hr'], 'out', **o)  # noqa: E731
    assert opts().degradation_tag == 'bicubic-matlab'
    assert opts(degradation_seed=3).degradation_tag == 'bicubic-matlab'  # deterministic
    assert opts(degradation='realistic', degradation_seed=3).degradation_tag == \
        'realistic-v1-seed3'
    with pytest.raises(CascadeError, match='choose from bicubic realistic'):
        opts(degradation='gaussian')
    with pytest.raises(CascadeError, match='degradation_seed'):
        opts(degradation='realistic', degradation_seed=-1)
    model = SRMethod('fdsr', generator=torch.nn.Identity(), cache_key='w1')
    assert method_key(model) == 'fdsr-w1-bicubic-matlab'
    assert method_key(model, 'realistic-v1-seed0') == 'fdsr-w1-realistic-v1-seed0'
    assert method_key(SRMethod('hr', kind='hr'), 'realistic-v1-seed0') == 'hr'
    args = cascade_eval.parse_args(['d.py', 'd.pth', '--out-dir', 'o', '--degradation',
                                    'realistic', '--degradation-seed', '2'])
    assert (args.degradation, args.degradation_seed) == ('realistic', 2)
    assert cascade_eval.main(['d.py', __file__, '--out-dir', 'o', '--degradation', 'blur']) == 2
