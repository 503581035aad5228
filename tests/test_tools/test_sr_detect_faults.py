"""tools/sr_detect.py faults of issue 18: COCO ids and input-pixel boxes in results.bbox.json
scored with pycocotools (item 14, also with ``sr_coords=True``), distinct outputs for inputs with
the same stem (item 8), an output folder inside the input (item 9) or that is a file, reruns
that keep finished images, drawing on (and saving) the SR image, one error line for a refused or
mismatching weights file, and no mmengine noise.

The tiny setup of test_sr_detect: a random tiny RetinaNet (score_thr 0: 50 detections per image)
behind nearest x4 SR, on 18 x 16 LR images.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
from conftest import load_tool
from helpers.sr_detector_testlib import write_sr_detector_config
from test_sr_detect import one_error_line, run_tool_main, tiny  # noqa: F401  (same folder)

pytestmark = pytest.mark.usefixtures('restore_default_scope')


def _lr_files(tiny):
    return sorted(glob.glob(osp.join(tiny['lr_dir'], '*.png')))


def _coco_box(x0, y0, x1, y1):
    return [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)]


def _hand_made_gt(tiny, path):
    """A COCO json of the LR images whose objects are the model's own detections (input
    pixels, from mmdet's inference_detector), with image ids 101.. and category ids 50, 40, ..,
    10 listed in another order than the classes: scoring the tool's results against it must
    give AP 1 exactly when ids and coordinates are right."""
    from mmdet.apis import inference_detector

    from fdsr_mm.apis.inferencers import init_sr_detector
    model = init_sr_detector(tiny['cfg'])
    classes = model.dataset_meta['classes']
    cat_ids = {c: 10 * (len(classes) - i) for i, c in enumerate(classes)}
    images, anns = [], []
    for i, f in enumerate(_lr_files(tiny)):
        images.append(dict(id=101 + i, file_name=osp.basename(f), width=18, height=16))
        pred = inference_detector(model, f).pred_instances
        for box, label in zip(pred.bboxes.tolist(), pred.labels.tolist()):
            bbox = _coco_box(*box)
            anns.append(dict(id=len(anns) + 1, image_id=101 + i, bbox=bbox, iscrowd=0,
                             area=bbox[2] * bbox[3], category_id=cat_ids[classes[label]]))
    cats = [dict(id=cat_ids[c], name=c) for c in sorted(classes)]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return anns


@pytest.mark.parametrize('sr_coords', [False, True])
def test_results_score_with_pycocotools_against_the_ann_file(tiny, tmp_path, sr_coords):
    """Item 14: with --ann-file the results carry its image and category ids and input-pixel
    boxes (also from an sr_coords=True model, which returns SR pixels): COCOeval of the file
    against the json gives AP 1, and each image's results are its hand-made objects."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt_path = str(tmp_path / 'gt.json')
    gt_anns = _hand_made_gt(tiny, gt_path)
    cfg = write_sr_detector_config(tmp_path / 'cfg.py', tiny['det_cfg'], tiny['ckpt'],
                                   sr_coords=sr_coords)
    out = str(tmp_path / 'out')
    assert run_tool_main([cfg, tiny['lr_dir'], '--out-dir', out, '--ann-file', gt_path,
                          '--score-thr', '0', '--no-draw', '--no-progress',
                          '--device', 'cpu']) == 0
    results = json.load(open(osp.join(out, 'results.bbox.json')))
    key = lambda r: (r['image_id'], r['category_id'], tuple(r['bbox']))  # noqa: E731
    assert len(results) == len(gt_anns)
    for got, want in zip(sorted(results, key=key), sorted(gt_anns, key=key)):
        assert got['image_id'] == want['image_id'] and got['category_id'] == \
            want['category_id']
        assert got['bbox'] == pytest.approx(want['bbox'], abs=0.011)
    index = json.load(open(osp.join(out, 'images.json')))
    assert [im['id'] for im in index['images']] == [101, 102, 103]
    assert index['categories'][0] == dict(id=50, name='striped') and 'gt.json' in index['ids']
    gt = COCO(gt_path)
    ev = COCOeval(gt, gt.loadRes(osp.join(out, 'results.bbox.json')), 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0) and ev.stats[1] == pytest.approx(1.0)


def test_ann_file_that_lacks_an_input_or_a_class_is_one_error_line(tiny, tmp_path, capsys):
    gt_path = str(tmp_path / 'gt.json')
    json.dump(dict(images=[dict(id=1, file_name='img0.png', width=18, height=16)],
                   annotations=[], categories=[dict(id=1, name='striped')]),
              open(gt_path, 'w'))
    argv = [tiny['cfg'], tiny['lr_dir'], '--out-dir', str(tmp_path / 'o'), '--ann-file',
            gt_path, '--no-progress', '--device', 'cpu']
    assert run_tool_main(argv) == 2
    assert 'img1.png is not an image of the annotation file' in one_error_line(capsys)
    assert run_tool_main(argv[:1] + [osp.join(tiny['lr_dir'], 'img0.png')] + argv[2:]) == 2
    assert "['checkered', 'dotted', 'scribbled', 'ringed'] are not categories" in \
        one_error_line(capsys)


def test_inputs_with_the_same_stem_get_distinct_drawings(tiny, tmp_path):
    """Item 8: a.png and a.jpg (different images) -> vis/a_png.jpg and vis/a_jpg.jpg, and one
    record each."""
    src = tmp_path / 'in'
    src.mkdir()
    imgs = [cv2.imread(f) for f in _lr_files(tiny)]
    cv2.imwrite(str(src / 'a.png'), imgs[0])
    cv2.imwrite(str(src / 'a.jpg'), imgs[1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    out = str(tmp_path / 'out')
    assert run_tool_main([tiny['cfg'], str(src), '--out-dir', out, '--score-thr', '0.0',
                          '--no-progress', '--device', 'cpu']) == 0
    assert sorted(os.listdir(osp.join(out, 'vis'))) == ['a_jpg.jpg', 'a_png.jpg']
    assert sorted(os.listdir(osp.join(out, 'preds'))) == ['a_jpg.json', 'a_png.json']
    drawn = [cv2.imread(osp.join(out, 'vis', n)) for n in ('a_png.jpg', 'a_jpg.jpg')]
    assert not np.array_equal(drawn[0], drawn[1])
    results = json.load(open(osp.join(out, 'results.bbox.json')))
    assert sorted({r['file_name'] for r in results}) == sorted(
        [str(src / 'a.jpg'), str(src / 'a.png')])


def test_out_dir_inside_the_input_folder_or_a_file_is_one_error_line(tiny, tmp_path, capsys):
    """Item 9: an --out-dir in the input folder (a rerun would detect on its own drawings) is
    refused before anything is written; so is an --out-dir that is a file, and inputs that are
    an earlier run's drawings."""
    src = tmp_path / 'in'
    shutil.copytree(tiny['lr_dir'], str(src))
    for out in (str(src), str(src / 'detections')):
        assert run_tool_main([tiny['cfg'], str(src), '--out-dir', out, '--no-progress']) == 2
        assert 'choose an --out-dir outside the input folders' in one_error_line(capsys)
    assert sorted(os.listdir(str(src))) == ['img0.png', 'img1.png', 'img2.png']
    a_file = tmp_path / 'results.txt'
    a_file.write_text('keep me')
    assert run_tool_main([tiny['cfg'], str(src), '--out-dir', str(a_file)]) == 2
    assert 'the output folder is a file' in one_error_line(capsys)
    assert a_file.read_text() == 'keep me'
    out = tmp_path / 'out'
    (out / 'vis').mkdir(parents=True)
    shutil.copy(str(src / 'img0.png'), str(out / 'vis' / 'img0.png'))
    assert run_tool_main([tiny['cfg'], str(src), str(out / 'vis' / '*.png'), '--out-dir',
                          str(out)]) == 2
    assert 'outputs of an earlier run' in one_error_line(capsys)


def _mtimes(folder):
    return {f: os.stat(osp.join(folder, f)).st_mtime_ns for f in sorted(os.listdir(folder))}


def test_rerun_keeps_finished_images_and_redoes_the_rest(tiny, tmp_path, capsys):
    """What an interrupted run (Ctrl-C) leaves: some images finished (their preds/ record is
    written last, atomically). A rerun redoes only the others, with the same results; another
    setting (--score-thr) redoes everything."""
    out = str(tmp_path / 'out')
    argv = [tiny['cfg'], tiny['lr_dir'], '--out-dir', out, '--score-thr', '0.0',
            '--no-progress', '--device', 'cpu']
    assert run_tool_main(argv) == 0
    first = open(osp.join(out, 'results.bbox.json')).read()
    vis, preds = _mtimes(osp.join(out, 'vis')), _mtimes(osp.join(out, 'preds'))
    os.remove(osp.join(out, 'preds', 'img1.json'))  # img1 was not finished
    assert run_tool_main(argv) == 0
    assert '3 images (2 finished by an earlier run)' in capsys.readouterr().out
    assert open(osp.join(out, 'results.bbox.json')).read() == first
    vis2, preds2 = _mtimes(osp.join(out, 'vis')), _mtimes(osp.join(out, 'preds'))
    assert [f for f in vis if vis2[f] != vis[f]] == ['img1.jpg']
    assert [f for f in preds if f != 'img1.json' and preds2[f] != preds[f]] == []
    assert run_tool_main(argv[:5] + ['0.001'] + argv[6:]) == 0
    assert '3 images, ' in capsys.readouterr().out
    assert all(t != preds2[f] for f, t in _mtimes(osp.join(out, 'preds')).items())


def test_draw_on_sr_and_save_sr(tiny, tmp_path):
    """--draw-on sr draws on the SR image the detector saw (72 x 64); --save-sr writes it
    losslessly: nearest x4 of the LR image."""
    out = str(tmp_path / 'out')
    assert run_tool_main([tiny['cfg'], tiny['lr_dir'], '--out-dir', out, '--draw-on', 'sr',
                          '--save-sr', '--score-thr', '0.0', '--no-progress',
                          '--device', 'cpu']) == 0
    for f in _lr_files(tiny):
        stem = osp.splitext(osp.basename(f))[0]
        lr = cv2.imread(f)
        sr = cv2.imread(osp.join(out, 'sr', stem + '.png'))
        assert np.array_equal(sr, lr.repeat(4, 0).repeat(4, 1))
        drawn = cv2.imread(osp.join(out, 'vis', stem + '.jpg'))
        assert drawn.shape == sr.shape == (64, 72, 3)
        assert np.abs(drawn.astype(int) - sr).mean() > 1  # boxes and labels drawn on it
    results = json.load(open(osp.join(out, 'results.bbox.json')))
    assert max(r['bbox'][0] + r['bbox'][2] for r in results) <= 18 + 0.01  # input pixels


def test_refused_or_mismatching_weights_are_one_error_line(tiny, tmp_path, capsys):
    unsafe = str(tmp_path / 'unsafe.pth')
    torch.save(dict(state_dict={}, meta=argparse.Namespace(note='not plain data')), unsafe)
    argv = [tiny['cfg'], tiny['lr_dir'], '--out-dir', str(tmp_path / 'o'), '--no-progress',
            '--device', 'cpu', '--weights']
    assert run_tool_main(argv + [unsafe]) == 2
    line = one_error_line(capsys)
    assert 'unsafe.pth' in line and 'refused' in line and 'weights_only=False' not in line
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={'generator.weight': torch.zeros(3)}), other)
    assert run_tool_main(argv + [other]) == 2
    line = one_error_line(capsys)  # the SRDetector's own check (every load is strict)
    assert 'other.pth' in line and 'not those of this SR + detector model' in line, line


@pytest.mark.slow
def test_a_run_prints_only_its_own_lines(tiny, tmp_path):
    """No mmengine INFO blocks from init_weights() and no LocalVisBackend warning: the tool's
    summary line only (here without the progress bar)."""
    out = str(tmp_path / 'out')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'sr_detect.py'), tiny['cfg'],
         tiny['lr_dir'], '--out-dir', out, '--device', 'cpu', '--no-progress',
         '--score-thr', '0.0'],  # boxes drawn: mmengine's drawing notices too
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith('3 images, '), lines[:20]


@pytest.mark.slow
def test_ctrl_c_is_one_line_and_the_rerun_keeps_what_was_finished(tiny, tmp_path, capsys):
    """SIGINT while a run is part way: exit code 130 and one line; the rerun reuses every image
    recorded before the interrupt and finishes the rest."""
    import signal
    import time
    src = tmp_path / 'in'
    src.mkdir()
    lr = [cv2.imread(f) for f in _lr_files(tiny)]
    num = 600  # enough that the run cannot finish between the 2nd output and the SIGINT, even
    # with the test process stalled for seconds late in a long suite (the tools got faster)
    for i in range(num):
        cv2.imwrite(str(src / f'im{i:03d}.png'), np.roll(lr[i % 3], i, axis=1))
    out = tmp_path / 'out'
    proc = subprocess.Popen(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'sr_detect.py'), tiny['cfg'], str(src),
         '--out-dir', str(out), '--device', 'cpu', '--score-thr', '0.0', '--no-progress'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path),
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        # a shell's Ctrl-C: the default SIGINT action, whatever this process inherited
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and \
            len(glob.glob(str(out / 'preds' / '*.json'))) < 2:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout[-500:], stderr[-2000:])
    err = [line for line in stderr.splitlines() if line.strip()]
    assert err == ['sr_detect: interrupted (Ctrl-C); finished outputs are kept, a rerun '
                   'continues.']
    done = len(glob.glob(str(out / 'preds' / '*.json')))
    assert 2 <= done < num
    assert all(n.endswith('.json') and not n.startswith('.')  # no temporary file left
               for n in os.listdir(str(out / 'preds')))
    assert run_tool_main([tiny['cfg'], str(src), '--out-dir', str(out), '--device', 'cpu',
                          '--score-thr', '0.0', '--no-progress']) == 0
    assert f'{num} images ({done} finished by an earlier run)' in capsys.readouterr().out
    assert len(os.listdir(str(out / 'vis'))) == num


def test_pack_sr_detector_faults_are_one_error_line(tiny, tmp_path, capsys):
    pack_sr_detector = load_tool('pack_sr_detector')
    from fdsr_mm.utils import run_tool

    def pack(argv):
        return run_tool('pack_sr_detector', lambda: pack_sr_detector.main(argv),
                        pack_sr_detector.extra_faults())

    assert pack([str(tmp_path / 'missing.py'), str(tmp_path / 'p.pth')]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith('pack_sr_detector: error: ') \
        and 'missing.py does not exist' in err[0]
    (tmp_path / 'taken.pth').mkdir()  # OUT is a folder: cannot be written
    assert pack([tiny['cfg'], str(tmp_path / 'taken.pth')]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and 'taken.pth' in err[0], err


def test_packed_weights_give_the_configs_results(tiny, tmp_path):
    """--weights: the packed file (every key, strictly) replaces the config's checkpoints."""
    pack_sr_detector = load_tool('pack_sr_detector')
    packed = str(tmp_path / 'packed.pth')
    assert pack_sr_detector.main([tiny['cfg'], packed]) == 0
    common = ['--score-thr', '0.0', '--no-draw', '--no-progress', '--device', 'cpu']
    assert run_tool_main([tiny['cfg'], tiny['lr_dir'], '--out-dir', str(tmp_path / 'a')] +
                         common) == 0
    assert run_tool_main([tiny['cfg'], tiny['lr_dir'], '--out-dir', str(tmp_path / 'b'),
                          '--weights', packed, '--cfg-options',
                          'model.detector_checkpoint=None'] + common) == 0
    a, b = (json.load(open(str(tmp_path / d / 'results.bbox.json'))) for d in 'ab')
    assert len(a) == 150 and a == b
