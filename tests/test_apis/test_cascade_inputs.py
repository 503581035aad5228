"""The cascade's caches and inputs (issue 18 items 3, 5, 12): cache entries follow the content
of the source images, the tiling is part of the SR cache key, and images whose size disagrees
with their annotation are refused by name."""
import glob
import json
import os
import os.path as osp
import shutil

import cv2
import pytest
import torch

from helpers import cascade_testlib as lib
from fdsr_mm.apis import CascadeError, run_cascade
from fdsr_mm.apis.cascade.hr_prep import size_disagreement
from fdsr_mm.datasets.synthetic_coco import write_synthetic_coco
from fdsr_mm.evaluation.tables import run_settings, settings_conflict

HW = (64, 72)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('cascade_inputs')
    sr_cfg, sr_ckpt = lib.write_sr_model(str(root))
    return dict(root=root, sr=f'dbpn={sr_cfg}:{sr_ckpt}')


def _dataset(root, seed=0):
    data = str(root / 'data')
    write_synthetic_coco(data, num_train=0, num_val=3, image_hw=HW, seed=seed)
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    return data, cfg, ckpt


def _numbers(res):
    return {m: (r['iq'], r['det']) for m, r in res['methods'].items()}


def test_regenerated_images_at_the_same_paths_are_prepared_and_scored_anew(setup, tmp_path):
    """Item 3: new images (another seed) at the same paths, into the same out/cache folders,
    give exactly the numbers of a fresh run, not the old images' numbers."""
    data, cfg, ckpt = _dataset(tmp_path, seed=0)
    methods = ['hr', 'bicubic', setup['sr']]
    out, cache = str(tmp_path / 'out'), str(tmp_path / 'cache')
    kw = dict(scale=4, iq_metrics=['psnr'], progress=False)
    old = run_cascade(cfg, ckpt, methods, out, cache_dir=cache, **kw)
    write_synthetic_coco(data, num_train=0, num_val=3, image_hw=HW, seed=7)  # same file names
    new = run_cascade(cfg, ckpt, methods, out, cache_dir=cache, **kw)
    fresh = run_cascade(cfg, ckpt, methods, str(tmp_path / 'fresh'),
                        cache_dir=str(tmp_path / 'fresh_cache'), **kw)
    assert new['methods']['dbpn']['sr_seconds'] > 0  # super-resolved again
    assert _numbers(new) == _numbers(fresh)
    assert _numbers(new)['bicubic'][0] != _numbers(old)['bicubic'][0]
    # the evaluated HR images are the new files' pixels
    index = json.load(open(osp.join(out, 'eval_inputs', 'index.0.json')))
    hr_dir = new['methods']['hr']['spec']['cache']
    for path, entry in index.items():
        assert (lib.hr_png(hr_dir, entry['file']) == lib.hr_png(osp.dirname(path),
                                                                 osp.basename(path))).all()
    # an unchanged rerun reuses everything
    again = run_cascade(cfg, ckpt, methods, out, cache_dir=cache, **kw)
    assert again['methods']['dbpn']['sr_seconds'] == 0 and _numbers(again) == _numbers(fresh)


def test_a_failed_image_is_retried_once_its_file_is_fixed(setup, tmp_path):
    data, cfg, ckpt = _dataset(tmp_path)
    img = osp.join(data, 'val', '000001.png')
    good = open(img, 'rb').read()
    with open(img, 'wb') as f:
        f.write(good[:200])  # truncated
    kw = dict(scale=4, iq_metrics=['psnr'], progress=False, cache_dir=str(tmp_path / 'cache'))
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic'], str(tmp_path / 'out'), **kw)
    assert [osp.basename(f['file']) for f in res['dataset']['failed_images']] == ['000001.png']
    with open(img, 'wb') as f:
        f.write(good)
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic'], str(tmp_path / 'out'), **kw)
    assert res['dataset']['failed_images'] == [] and res['dataset']['num_evaluated'] == 3
    # unreadable now (a folder in its place): excluded, not served from its earlier success
    os.remove(img)
    os.mkdir(img)
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic'], str(tmp_path / 'out'), **kw)
    assert [f['reason'].split(':')[0] for f in res['dataset']['failed_images']] == ['unreadable']
    os.rmdir(img)
    with open(img, 'wb') as f:
        f.write(good)
    res = run_cascade(cfg, ckpt, ['hr', 'bicubic'], str(tmp_path / 'out'), **kw)
    assert res['dataset']['failed_images'] == [] and res['dataset']['num_evaluated'] == 3
    assert res['methods']['bicubic']['sr_seconds'] == 0  # its earlier images are reused


def test_tiling_is_part_of_the_sr_cache_key(setup, tmp_path):
    """Item 5: SR made whole is not reused for a tiled run (and the reverse); the derived pad
    is the generator's receptive field; a smaller pad is refused before any SR."""
    data, cfg, ckpt = _dataset(tmp_path)
    kw = dict(scale=4, iq_metrics=['psnr'], progress=False, cache_dir=str(tmp_path / 'cache'))
    whole = run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'whole'), tile=None, **kw)
    tiled = run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'tiled'), tile=8, **kw)
    w, t = whole['methods']['dbpn'], tiled['methods']['dbpn']
    assert t['sr_seconds'] > 0 and t['spec']['cache'] != w['spec']['cache']
    assert w['spec']['tiling'] == dict(tile=None, tile_pad=None, exact=True, amp=None,
                                       tag='whole')
    # the tiny DBPN (x4, 2 stages, bicubic residual) has a field of 6 LR px: exact tiles
    assert t['spec']['tiling'] == dict(tile=8, tile_pad=6, exact=True, amp=None,
                                       tag='tile8pad6')
    assert t['iq']['psnr'] == pytest.approx(w['iq']['psnr'], abs=0.05)
    again = run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'tiled2'), tile=8, **kw)
    assert again['methods']['dbpn']['sr_seconds'] == 0
    with pytest.raises(CascadeError, match=r'tile_pad 2 is smaller than the receptive field '
                                           r'\(6 LR px\).*--tile-pad'):
        run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'small_pad'), tile=8, tile_pad=2,
                    **kw)
    assert not osp.exists(tmp_path / 'small_pad' / 'results.json')


def test_sr_under_autocast_is_cached_apart_and_named_in_the_caption(setup, tmp_path):
    """--sr-amp (issue 22): bfloat16 SR is never served as the float32 one (or the reverse),
    costs little PSNR on the tiny DBPN, the run's settings say how the SR ran, and tables of a
    float32 and an autocast run are not merged as one setting."""
    data, cfg, ckpt = _dataset(tmp_path)
    kw = dict(scale=4, iq_metrics=['psnr'], progress=False, cache_dir=str(tmp_path / 'cache'),
              tile=None)
    fp32 = run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'fp32'), **kw)
    bf16 = run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'bf16'), sr_amp='bfloat16', **kw)
    a, b = fp32['methods']['dbpn'], bf16['methods']['dbpn']
    assert b['sr_seconds'] > 0 and b['spec']['cache'] != a['spec']['cache']
    assert b['spec']['tiling']['tag'] == 'whole-bfloat16' and b['spec']['tiling']['amp'] == \
        'bfloat16'
    assert b['iq']['psnr'] == pytest.approx(a['iq']['psnr'], abs=0.5)
    assert run_settings(bf16)['tiling'] == 'whole images, SR under bfloat16 autocast'
    assert settings_conflict([fp32, bf16])[2:] == (
        'tiling', 'whole images', 'whole images, SR under bfloat16 autocast')
    with pytest.raises(CascadeError, match='--sr-amp'):
        run_cascade(cfg, ckpt, [setup['sr']], str(tmp_path / 'x'), sr_amp='float8', **kw)


def test_lr_copies_of_an_hr_annotated_set_are_refused_by_name(setup, tmp_path):
    """Item 12: json width/height disagree with every file: refused before any SR."""
    data, cfg, ckpt = _dataset(tmp_path)
    lr_dir = osp.join(data, 'val_lr')
    shutil.copytree(osp.join(data, 'val'), lr_dir)
    for p in glob.glob(osp.join(lr_dir, '*.png')):
        img = cv2.imread(p)
        cv2.imwrite(p, cv2.resize(img, (img.shape[1] // 4, img.shape[0] // 4)))
    with pytest.raises(CascadeError) as info:
        run_cascade(cfg, ckpt, ['hr', setup['sr']], str(tmp_path / 'out'), scale=4,
                    iq_metrics=['psnr'], progress=False, dataset=dict(data_prefix=dict(
                        img='val_lr/')), cache_dir=str(tmp_path / 'cache'))
    msg = str(info.value)
    assert msg.startswith('3 of 3 images disagree in size with their annotation')
    assert '000000.png: the file is 18x16 (WxH), its annotation says 72x64' in msg
    assert 'instances_val.json' in msg and '--img-prefix' in msg and '\n' not in msg
    sr = [p for p in glob.glob(str(tmp_path / 'cache' / '**' / '*.png'), recursive=True)
          if '/hr/' not in p]
    assert sr == []  # nothing was super-resolved


def test_size_check_allows_the_mod_crop_only():
    d = dict(height=63, width=70)
    assert size_disagreement(d, (63, 70), 4) is None
    assert size_disagreement(d, (60, 68), 4) is None  # the file is the mod-cropped copy
    assert size_disagreement(dict(height=60, width=68), (63, 70), 4) is None
    assert size_disagreement(d, (64, 70), 4) is not None
    assert size_disagreement(d, (16, 18), 4).startswith('size mismatch: the file is 18x16')
    assert size_disagreement(dict(), (16, 18), 4) is None  # nothing to compare with
    assert 'EXIF orientation' in size_disagreement(dict(height=72, width=64), (64, 72), 4)
