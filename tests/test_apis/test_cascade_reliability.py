"""The cascade never writes a table of wrong numbers: each bad input found by a hostile-user
trial (issue 15) is either a clear error naming the file, found before the SR pass, or a
correct result (excluded image, undefined AP, completed metrics, concurrent cache use)."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import torch

from helpers import cascade_testlib as lib
from fdsr_mm.apis import CascadeError, run_cascade

HERE = osp.dirname(osp.abspath(__file__))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('cascade_rel')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=4, image_hw=(64, 72))
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    sr_cfg, sr_ckpt = lib.write_sr_model(str(root))
    return dict(root=root, data=data, cfg=cfg, ckpt=ckpt, sr_cfg=sr_cfg, sr_ckpt=sr_ckpt)


def _pngs(folder):
    return glob.glob(osp.join(folder, '**', '*.png'), recursive=True)


def _dataset_copy(setup, tmp_path, edit):
    """A copy of the tiny dataset whose COCO json ``edit(coco)`` changed, + its detector."""
    data = str(tmp_path / 'data')
    shutil.copytree(setup['data'], data)
    ann = osp.join(data, 'annotations', 'instances_val.json')
    coco = json.load(open(ann))
    edit(coco, data)
    json.dump(coco, open(ann, 'w'))
    cfg, ckpt = lib.make_detector(str(tmp_path / 'det'), data)
    return cfg, ckpt


def test_detector_checkpoint_of_another_architecture_is_refused_before_sr(setup, tmp_path):
    """An SR checkpoint passed as the detector's: once only 'missing keys' in a log."""
    cache = str(tmp_path / 'cache')
    with pytest.raises(CascadeError) as err:
        run_cascade(setup['cfg'], setup['sr_ckpt'], ['hr', 'bicubic'], str(tmp_path / 'out'),
                    cache_dir=cache, progress=False)
    msg = str(err.value)
    assert setup['sr_ckpt'] in msg and 'missing' in msg and 'backbone.' in msg
    assert _pngs(cache) == []  # found before the SR pass
    assert not osp.exists(tmp_path / 'out' / 'results.json')


def test_non_finite_sr_checkpoint_is_refused_before_sr(setup, tmp_path):
    state = torch.load(setup['sr_ckpt'], weights_only=True)
    key = next(k for k in state['state_dict'] if k.endswith('weight'))
    state['state_dict'][key] = torch.full_like(state['state_dict'][key], float('nan'))
    bad = str(tmp_path / 'nan_dbpn.pth')
    torch.save(state, bad)
    cache = str(tmp_path / 'cache')
    with pytest.raises(CascadeError, match='non-finite') as err:
        run_cascade(setup['cfg'], setup['ckpt'], ['hr', f'nan={setup["sr_cfg"]}:{bad}'],
                    str(tmp_path / 'out'), cache_dir=cache, progress=False)
    assert bad in str(err.value)
    assert _pngs(cache) == []


def test_sr_checkpoint_with_weights_of_another_shape_is_refused_before_sr(setup, tmp_path):
    """Same keys, other shapes (e.g. another width): one CascadeError naming the file and the
    first mis-shaped weight, not torch's multi-line RuntimeError from load_state_dict."""
    state = torch.load(setup['sr_ckpt'], weights_only=True)
    key = next(k for k in state['state_dict'] if k.endswith('weight'))
    w = state['state_dict'][key]
    state['state_dict'][key] = torch.zeros((w.shape[0] + 1,) + tuple(w.shape[1:]))
    bad = str(tmp_path / 'wide_dbpn.pth')
    torch.save(state, bad)
    cache = str(tmp_path / 'cache')
    with pytest.raises(CascadeError, match='does not fit the generator') as err:
        run_cascade(setup['cfg'], setup['ckpt'], ['hr', f'wide={setup["sr_cfg"]}:{bad}'],
                    str(tmp_path / 'out'), cache_dir=cache, progress=False)
    msg = str(err.value)
    assert bad in msg and 'another shape' in msg and key[len('generator.'):] in msg
    assert '\n' not in msg and _pngs(cache) == []


def test_duplicate_coco_image_ids_are_refused(setup, tmp_path):
    def dup(coco, _):
        coco['images'][1]['id'] = coco['images'][0]['id']
    cfg, ckpt = _dataset_copy(setup, tmp_path, dup)
    with pytest.raises(CascadeError, match='duplicate image id') as err:
        run_cascade(cfg, ckpt, ['hr'], str(tmp_path / 'out'), progress=False)
    names = json.load(open(osp.join(tmp_path, 'data', 'annotations', 'instances_val.json')))
    assert all(im['file_name'] in str(err.value) for im in names['images'][:2])


def test_empty_annotations_give_undefined_ap_not_zero(setup, tmp_path):
    def empty(coco, _):
        coco['annotations'] = []
    cfg, ckpt = _dataset_copy(setup, tmp_path, empty)
    res = run_cascade(cfg, ckpt, ['hr'], str(tmp_path / 'out'), iq_metrics=['psnr'],
                      progress=False)
    det = res['methods']['hr']['det']
    assert det['AP'] is None and det['AP50'] is None and 'undefined' in det['note']
    dets = json.load(open(tmp_path / 'out' / 'methods' / 'hr' / 'detections.bbox.json'))
    assert len(dets) > 0  # the detector did detect: "no detections" would be false
    md = open(tmp_path / 'out' / 'table1.md').read()
    assert '| AP | n/a |' in md and 'no detections' not in md and 'undefined' in md


def test_rerun_with_more_iq_metrics_computes_what_is_missing(setup, tmp_path):
    methods = ['hr', 'bicubic', f'dbpn={setup["sr_cfg"]}:{setup["sr_ckpt"]}']
    cache = str(tmp_path / 'cache')
    run_cascade(setup['cfg'], setup['ckpt'], methods, str(tmp_path / 'a'), cache_dir=cache,
                iq_metrics=['psnr'], progress=False)
    res = run_cascade(setup['cfg'], setup['ckpt'], methods, str(tmp_path / 'b'),
                      cache_dir=cache, iq_metrics=['psnr', 'ssim'], progress=False)
    fresh = run_cascade(setup['cfg'], setup['ckpt'], methods, str(tmp_path / 'c'),
                        iq_metrics=['psnr', 'ssim'], progress=False)
    for m in ('bicubic', 'dbpn'):
        assert res['methods'][m]['sr_seconds'] == 0  # nothing super-resolved again
        assert res['methods'][m]['iq'] == fresh['methods'][m]['iq']
        assert 0 < res['methods'][m]['iq']['ssim'] < 1


def test_image_the_detector_cannot_take_is_excluded_and_named(setup, tmp_path):
    """A 32x16000 image: the tiny RetinaNet's Resize(128, 128) makes it 0 px high."""
    def wide(coco, data):
        cv2.imwrite(osp.join(data, 'val', 'wide.png'), np.full((32, 16000, 3), 128, np.uint8))
        coco['images'].append(dict(id=999, file_name='wide.png', height=32, width=16000))
        coco['annotations'].append(dict(id=999, image_id=999, category_id=1, iscrowd=0,
                                        bbox=[10.0, 5.0, 40.0, 20.0], area=800.0))
    cfg, ckpt = _dataset_copy(setup, tmp_path, wide)
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic'], str(tmp_path / 'out'),
                      iq_metrics=['psnr'], progress=False)
    failed = {osp.basename(f['file']): f['reason'] for f in res['dataset']['failed_images']}
    assert list(failed) == ['wide.png'] and '32x16000' in failed['wide.png']
    assert res['dataset']['num_evaluated'] == 4
    assert 'wide.png' in open(tmp_path / 'out' / 'table1.md').read()
    derived = json.load(open(res['dataset']['evaluated_ann_file']))
    assert 999 not in [im['id'] for im in derived['images']]


@pytest.mark.parametrize('kwargs, match', [
    (dict(limit=0), 'limit'), (dict(limit=-1), 'limit'), (dict(scale=0), 'scale'),
    (dict(methods=['=a.py:b.pth']), "name ''"), (dict(methods=['../x=a.py:b.pth']), 'name'),
    (dict(iq_metrics=['psnr', 'lpips']), 'lpips')])
def test_bad_options_are_one_clear_error(setup, tmp_path, kwargs, match):
    args = dict(detector_config=setup['cfg'], detector_checkpoint=setup['ckpt'],
                methods=['hr'], out_dir=str(tmp_path / 'out'), progress=False)
    with pytest.raises(CascadeError, match=match):
        run_cascade(**dict(args, **kwargs))
    assert not osp.exists(tmp_path / 'out' / 'x')


def test_unwritable_out_dir_and_no_usable_image(setup, tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    with pytest.raises(CascadeError, match='not writable') as err:
        run_cascade(setup['cfg'], setup['ckpt'], ['hr'], str(blocker / 'out'), progress=False)
    assert str(blocker / 'out') in str(err.value) and '--out-dir' in str(err.value)

    def all_corrupt(coco, data):
        for im in coco['images']:
            open(osp.join(data, 'val', im['file_name']), 'wb').write(b'garbage')
    cfg, ckpt = _dataset_copy(setup, tmp_path, all_corrupt)
    with pytest.raises(CascadeError, match='No usable image') as err:
        run_cascade(cfg, ckpt, ['hr'], str(tmp_path / 'out'), progress=False)
    assert 'corrupt' in str(err.value)


_RUN_ONE = textwrap.dedent('''
    import json, sys, torch
    sys.path.insert(0, {here!r})
    torch.set_num_threads(1)
    from fdsr_mm.apis import run_cascade
    res = run_cascade({cfg!r}, {ckpt!r}, {methods!r}, sys.argv[1], cache_dir={cache!r},
                      limit=int(sys.argv[2]), iq_metrics=['psnr'], progress=False)
    print(json.dumps({{m: r['det'] for m, r in res['methods'].items()}}))
''')


@pytest.mark.slow
def test_two_concurrent_runs_share_one_cache(setup, tmp_path):
    """Different image sets, one cache, at the same time: once a KeyError (shared index)."""
    methods = ['hr', 'bicubic', f'dbpn={setup["sr_cfg"]}:{setup["sr_ckpt"]}']
    script = tmp_path / 'run_one.py'
    script.write_text(_RUN_ONE.format(here=HERE, cfg=setup['cfg'], ckpt=setup['ckpt'],
                                      methods=methods, cache=str(tmp_path / 'cache')))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / f'out{n}'), str(n)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in (2, 4)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    for n, (out, _) in zip((2, 4), outs):
        alone = run_cascade(setup['cfg'], setup['ckpt'], methods, str(tmp_path / f'alone{n}'),
                            limit=n, iq_metrics=['psnr'], progress=False)
        assert json.loads(out.strip().splitlines()[-1]) == {
            m: r['det'] for m, r in alone['methods'].items()}
