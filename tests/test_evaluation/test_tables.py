"""Paper-shaped tables: rows/columns as in the FDSR paper, inf handled, atomic JSON round trip."""
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from fdsr_mm.utils.io import dump_json
from fdsr_mm.evaluation import load_results, merge_tables, table1, table2, table3, write_tables


def _result(name='faster-rcnn_r50_fpn_1x_coco', metric='coco', ap=26.5):
    det = dict(AP=ap, AP50=44.3, AP75=27.6, APS=9.0, APM=29.2, APL=42.5) if metric == 'coco' \
        else dict(mAP=ap)
    return dict(
        detector=dict(name=name, config=f'configs/detectors/{name}.py', checkpoint='x.pth'),
        metric=metric, scale=4,
        dataset=dict(num_images=5, num_evaluated=4, grayscale_images=1, modcropped_images=0,
                     failed_images=[dict(file='a/bad.jpg', reason='corrupt: x')]),
        methods=dict(hr=dict(iq={}, det=dict(det)),
                     bicubic=dict(iq=dict(psnr=25.89, psnr_y=27.0, ssim=0.7, fsim=0.9872,
                                          fsimc=0.98), det=dict(det)),
                     ident=dict(iq=dict(psnr=float('inf'), psnr_y=float('inf'), ssim=1.0,
                                        fsim=1.0, fsimc=1.0), det=dict(det))))


def test_table1_has_the_paper_rows_and_methods_as_columns():
    md = table1(_result())['markdown'].splitlines()
    assert md[0] == '| Method | hr | bicubic | ident |'
    rows = [line.split(' | ')[0].strip('| ') for line in md[2:13]]
    assert rows[:8] == ['PSNR', 'FSIM', 'AP', 'AP0.5', 'AP0.75', 'APS', 'APM', 'APL']
    assert md[2] == '| PSNR | - | 25.89 | inf |'
    assert md[3] == '| FSIM | - | 0.9872 | 1.0000 |'
    assert md[4] == '| AP | 26.5 | 26.5 | 26.5 |'
    text = '\n'.join(md)
    assert '4 of 5 images evaluated' in text and 'a/bad.jpg (corrupt: x)' in text
    assert '1 grayscale image(s)' in text
    csv_lines = table1(_result())['csv'].splitlines()
    assert csv_lines[0] == 'Method,hr,bicubic,ident' and csv_lines[2] == 'FSIM,-,0.9872,1.0000'


def test_table3_rows_are_methods():
    md = table3(_result(name='ssd300_voc0712', metric='voc', ap=48.85))['markdown'].splitlines()
    assert md[0].startswith('| Method | PSNR | FSIM | mAP |')
    assert md[3].startswith('| bicubic | 25.89 | 0.9872 | 48.9 |')


def test_write_and_merge_are_atomic_and_round_trip(tmp_path):
    a = str(tmp_path / 'a')
    paths = write_tables(_result(), a)
    assert sorted(os.listdir(a)) == ['results.json', 'table1.csv', 'table1.md']  # no tmp left
    back = load_results(paths['json'])
    assert math.isinf(back['methods']['ident']['iq']['psnr'])
    with open(paths['json']) as f:
        assert 'Infinity' not in f.read()  # strict JSON
    b = str(tmp_path / 'b')
    write_tables(_result(name='retinanet_r50_fpn_1x_coco', ap=25.7), b)
    merged = merge_tables([paths['json'], os.path.join(b, 'results.json')], str(tmp_path / 't2'),
                          methods=['hr', 'bicubic', 'ident', 'fdsr'])
    md = open(merged['markdown']).read().splitlines()
    assert md[0] == '| Detector | Metric | hr | bicubic | ident | fdsr |'
    assert md[2] == '| faster-rcnn_r50_fpn_1x_coco | AP | 26.5 | 26.5 | 26.5 | - |'
    assert md[3] == '| retinanet_r50_fpn_1x_coco | AP | 25.7 | 25.7 | 25.7 | - |'
    assert table2([_result()])['csv'].splitlines()[1].startswith('faster-rcnn_r50_fpn_1x_coco,AP')


# --- Table 2 only merges rows made under one setting (issue 18.13) -----------------------------

def _run(name='faster-rcnn_r50_fpn_1x_coco', ap=26.5, **changes):
    """A cascade result as run_cascade records it (settings included), with ``changes``."""
    r = _result(name=name, ap=ap)
    r.update(degradation='bicubic-matlab', degradation_name='bicubic', degradation_seed=None,
             hr_size=None, tiling=dict(tile=200, tile_pad=16))
    r['dataset'].update(type='CocoDataset', data_root='data/coco/', ann_file='ann/val.json')
    r['methods']['fdsr'] = dict(iq={}, det=dict(r['methods']['hr']['det']),
                                spec=dict(kind='model', config='fdsr.py', checkpoint='fdsr.pth'))
    for key, value in changes.items():
        if key in ('num_evaluated', 'ann_file'):
            r['dataset'][key] = value
        elif key == 'checkpoint':
            r['methods']['fdsr']['spec']['checkpoint'] = value
        else:
            r[key] = value
    return r


MIXED = [  # (change, setting named in the error, its two values as shown)
    (dict(scale=2), 'scale', ('x4', 'x2')),
    (dict(degradation='realistic-v1-seed0', degradation_name='realistic', degradation_seed=0),
     'degradation', ('bicubic-matlab', 'realistic-v1-seed0')),
    (dict(hr_size=[300, 300]), 'HR size', ('not resized', 'resized to 300x300')),
    (dict(ann_file='ann/other.json'), 'image set',
     ('CocoDataset data/coco/ ann/val.json', 'CocoDataset data/coco/ ann/other.json')),
    (dict(num_evaluated=3), 'images evaluated',
     ('4 of 5 (excluded: a/bad.jpg)', '3 of 5 (excluded: a/bad.jpg)')),
    (dict(tiling=dict(tile=None, tile_pad=16)), 'tiling',
     ('tile 200 LR px, pad 16', 'whole images')),
    (dict(checkpoint='other.pth'), 'method fdsr', ('fdsr.py:fdsr.pth', 'fdsr.py:other.pth')),
]


@pytest.mark.parametrize('change,setting,values', MIXED, ids=[m[1] for m in MIXED])
def test_merge_refuses_rows_of_different_settings_naming_both_files(tmp_path, change, setting,
                                                                     values):
    from fdsr_mm.utils import ToolError
    a, b = str(tmp_path / 'a' / 'results.json'), str(tmp_path / 'b' / 'results.json')
    dump_json(_run(), a)
    dump_json(_run(name='retinanet_r50_fpn_1x_coco', ap=25.7, **change), b)
    out = str(tmp_path / 't2')
    with pytest.raises(ToolError) as err:
        merge_tables([a, b], out)
    text = str(err.value)
    assert '\n' not in text and f'different {setting} ' in text and f'({a} vs {b})' in text
    assert f'{values[0]!r} vs {values[1]!r}' in text and '--allow-mixed-settings' in text
    assert not os.path.exists(out)  # nothing written
    # allowed explicitly: every row states its own value of what differs
    paths = merge_tables([a, b], out, allow_mixed_settings=True)
    md = open(paths['markdown']).read()
    assert f'DIFFERENT settings ({setting})' in md
    assert f'- faster-rcnn_r50_fpn_1x_coco: {setting} {values[0]}' in md
    assert f'- retinanet_r50_fpn_1x_coco: {setting} {values[1]}' in md
    csv_lines = open(paths['csv']).read().splitlines()
    assert csv_lines[0].endswith(',Settings') and csv_lines[2].endswith(f'{setting} {values[1]}')
    assert load_results(paths['json'])['settings'][1][setting] == values[1]


def test_merge_of_one_setting_states_it_under_the_table(tmp_path):
    a, b = str(tmp_path / 'a' / 'results.json'), str(tmp_path / 'b' / 'results.json')
    first = _run()  # a method only one row has (the study's Fig. 3 variants) is no conflict
    first['methods']['fdsr_a0'] = dict(first['methods']['fdsr'], spec=dict(
        kind='model', config='fdsr_a0.py', checkpoint='fdsr_a0.pth'))
    dump_json(first, a)
    dump_json(_run(name='retinanet_r50_fpn_1x_coco', ap=25.7), b)
    md = open(merge_tables([a, b], str(tmp_path / 't2'))['markdown']).read()
    assert ('Every row: scale x4; degradation bicubic-matlab; HR size not resized; image set '
            'CocoDataset data/coco/ ann/val.json; images evaluated 4 of 5 (excluded: a/bad.jpg); '
            'tiling tile 200 LR px, pad 16.') in md
    assert 'DIFFERENT' not in md
    assert table2([_run(), _run(scale=2)])['markdown'].count('DIFFERENT settings (scale)') == 1


@pytest.mark.slow
def test_merge_tool_refusal_is_one_error_line(tmp_path):
    a, b = str(tmp_path / 'a.json'), str(tmp_path / 'b.json')
    dump_json(_run(), a)
    dump_json(_run(scale=2), b)
    tool = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
                    'merge_cascade_tables.py')
    out = str(tmp_path / 't2')
    proc = subprocess.run([sys.executable, tool, a, b, '--out-dir', out], capture_output=True,
                          text=True, env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=120)
    assert proc.returncode == 2 and proc.stdout == '' and 'Traceback' not in proc.stderr
    assert proc.stderr.splitlines() == [  # our line only (no import-time notices of mmagic's)
        "merge_cascade_tables: error: refusing to merge results of different scale into one "
        f"table: 'x4' vs 'x2' ({a} vs {b}): merge runs made under one setting, or pass "
        "--allow-mixed-settings to state each row's settings under the table"]
    proc = subprocess.run([sys.executable, tool, a, b, '--out-dir', out,
                           '--allow-mixed-settings'], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '- faster-rcnn_r50_fpn_1x_coco: scale x2' in proc.stdout


# --- The image-quality caption: which SSIM the tables show ---------------------------------------

def _matlab_ssim_rgb(sr, hr, shave):
    """Reference: Wang et al.'s SSIM as MATLAB's ssim_index (11x11 Gaussian window, sigma 1.5,
    K = (0.01, 0.03), L = 255, valid region) per channel on the shaved crop, RGB mean. Written
    with scipy's Gaussian filter, independent of MMagic's cv2 code."""
    from scipy.ndimage import gaussian_filter
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    out = []
    for ch in range(3):
        x = sr[shave:-shave, shave:-shave, ch].astype(np.float64)
        y = hr[shave:-shave, shave:-shave, ch].astype(np.float64)
        f = (lambda im: gaussian_filter(im, 1.5, truncate=3.5)[5:-5, 5:-5])  # 11x11, valid
        mx, my = f(x), f(y)
        vx, vy, cxy = f(x * x) - mx ** 2, f(y * y) - my ** 2, f(x * y) - mx * my
        out.append(np.mean((2 * mx * my + c1) * (2 * cxy + c2) /
                           ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))))
    return float(np.mean(out))


def test_tables_caption_says_which_ssim_and_it_is_the_rgb_mean_on_the_shaved_crop():
    from fdsr_mm.evaluation import ssim_rgb
    for tab in (table1(_result()), table3(_result(metric='voc'))):
        assert ('4 px shaved from every border' in tab['markdown'] and
                'SSIM = mean over the R, G, B channels of MATLAB-compatible SSIM (11x11 '
                'Gaussian window, sigma 1.5, [0, 255]), not SSIM on Y' in tab['markdown'])
    no_iq = _result()
    for m in no_iq['methods'].values():
        m['iq'] = {}
    assert 'Image quality' not in table1(no_iq)['markdown']
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (40, 48, 3)).astype(np.uint8)
    sr = np.clip(hr.astype(int) + rng.integers(-30, 31, hr.shape), 0, 255).astype(np.uint8)
    assert ssim_rgb(sr, hr, shave=4) == pytest.approx(_matlab_ssim_rgb(sr, hr, 4), abs=1e-12)


def _with_intervals(result, rows, reference='bicubic'):
    return dict(result, intervals=dict(reference=reference, resamples=200, seed=7, num_images=4,
                                       pairs=rows))


def _row(a, b, metric, diff, low, high, verdict='not resolved (CI includes 0)', n=200):
    return dict(a=a, b=b, metric=metric, diff=diff, low=low, high=high, num_resamples=n,
                verdict=verdict)


def test_intervals_in_tables_1_2_3_undefined_reads_na():
    coco = _with_intervals(_result(), [_row('bicubic', 'hr', 'AP', 1.25, 0.5, 2.0, 'held'),
                                       _row('bicubic', 'hr', 'APS', None, None, None,
                                            'not resolved (no interval)', 0),
                                       _row('bicubic', 'hr', 'APM', 0.1, -0.3, 0.6, n=150)])
    md = table1(coco)['markdown']
    assert '| AP - bicubic [95% CI] | +1.2 [+0.5, +2.0] | - | - |' in md
    assert '| APS - bicubic [95% CI] | n/a | - | - |' in md
    assert '| Verdict (AP - bicubic) | held | - | - |' in md
    assert 'bootstrap over the 4 test images' in md and '200 resamples, seed 7' in md
    assert 'left out: hr - bicubic APM.' in md
    assert 'AP - bicubic [95% CI],"+1.2 [+0.5, +2.0]",-,-' in table1(coco)['csv']
    voc = _with_intervals(_result(name='ssd', metric='voc', ap=48.85),
                          [_row('bicubic', 'hr', 'mAP', -1.234, -2.5, -0.25, 'reversed')])
    md3 = table3(voc)['markdown'].splitlines()
    assert md3[0].endswith('| mAP - bicubic [95% CI] | Verdict (mAP - bicubic) |')
    assert md3[2].endswith('| -1.23 [-2.50, -0.25] | reversed |')
    tab2 = table2([coco, _result(name='retinanet')])['markdown']
    assert ('| Detector | Reference | hr - reference [95% CI] | bicubic - reference [95% CI] '
            '| ident - reference [95% CI] |') in tab2
    assert '| faster-rcnn_r50_fpn_1x_coco | bicubic | +1.2 [+0.5, +2.0] | - | - |' in tab2
    assert '| retinanet | - | - | - | - |' in tab2
    assert table1(_result())['markdown'] == table1(dict(_result(), intervals=None))['markdown']
