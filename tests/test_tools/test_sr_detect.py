"""Detection on folders of LR images: mmdet's DetInferencer with an SR + detector config,
tools/sr_detect.py (bad files skipped by name) and tools/pack_sr_detector.py (one weights file)."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from conftest import load_tool
from helpers.sr_detector_testlib import tiny_setup, write_sr_detector_config

pack_sr_detector = load_tool('pack_sr_detector')
sr_detect = load_tool('sr_detect')

# mmdet's inference APIs set the default scope process-wide: undo it after each test
pytestmark = pytest.mark.usefixtures('restore_default_scope')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny detector setup of test_sr_detector, a folder of 18x16 LR images made from its
    val images, and an SR (nearest x4) + detector config."""
    setup = tiny_setup(tmp_path_factory.mktemp('sr_detect'))
    lr_dir = setup['root'] / 'lr'
    lr_dir.mkdir()
    for i, f in enumerate(sorted(glob.glob(osp.join(setup['data'], 'val', '*.png')))):
        img = cv2.resize(cv2.imread(f), (18, 16), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(lr_dir / f'img{i}.png'), img)
    cfg = write_sr_detector_config(setup['root'] / 'sr_det.py', setup['det_cfg'], setup['ckpt'])
    return dict(setup, cfg=cfg, lr_dir=str(lr_dir))


def test_det_inferencer_on_a_folder_writes_visualizations_and_predictions(tiny):
    from mmdet.apis import DetInferencer
    out = str(tiny['root'] / 'inferencer')
    inferencer = DetInferencer(model=tiny['cfg'], device='cpu')  # the config's checkpoints
    result = inferencer(tiny['lr_dir'], out_dir=out, no_save_pred=False, pred_score_thr=0.0)
    names = sorted(osp.splitext(osp.basename(p))[0] for p in glob.glob(tiny['lr_dir'] + '/*'))
    assert sorted(osp.splitext(osp.basename(p))[0] for p in glob.glob(out + '/vis/*')) == names
    preds = sorted(glob.glob(out + '/preds/*.json'))
    assert [osp.splitext(osp.basename(p))[0] for p in preds] == names
    saved = [np.array(json.load(open(p))['bboxes']) for p in preds]
    assert len(result['predictions']) == len(saved)
    for r in result['predictions']:  # each returned prediction is one saved file's (any order)
        assert sum(b.shape == np.shape(r['bboxes']) and np.allclose(b, r['bboxes'])
                   for b in saved) == 1
    for boxes in saved:
        assert len(boxes) == 50
        # LR (18 x 16) coordinates, not the 72 x 64 SR image's
        assert boxes[:, [0, 2]].max() <= 18 + 1e-3 and boxes[:, [1, 3]].max() <= 16 + 1e-3
    vis = cv2.imread(glob.glob(out + '/vis/*')[0])
    assert vis.shape == (16, 18, 3)  # drawn on the input image


def test_sr_detect_tool_skips_bad_images_by_name_and_writes_coco_results(tiny, capsys):
    bad = osp.join(tiny['lr_dir'], 'broken.jpg')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0 not a jpeg')
    out = str(tiny['root'] / 'tool')
    try:
        rc = sr_detect.main([tiny['cfg'], tiny['lr_dir'], '--out-dir', out, '--batch-size', '2',
                             '--score-thr', '0.0', '--device', 'cpu', '--no-progress'])
    finally:
        import os
        os.remove(bad)
    printed = capsys.readouterr().out
    assert rc == 0 and 'skipped' in printed and 'broken.jpg' in printed
    index = json.load(open(osp.join(out, 'images.json')))
    assert [osp.basename(s['file_name']) for s in index['skipped']] == ['broken.jpg']
    assert len(index['images']) == 3
    results = json.load(open(osp.join(out, 'results.bbox.json')))
    assert len(results) == 3 * 50
    # no --ann-file: ids 1..N over the listed files (broken.jpg is 1), categories 1..K
    assert {r['image_id'] for r in results} == {im['id'] for im in index['images']} == {2, 3, 4}
    assert [c['id'] for c in index['categories']] == [1, 2, 3, 4, 5]
    assert 'no --ann-file' in index['ids']
    for r in results:  # COCO [x, y, w, h] inside the 18 x 16 input image
        x, y, w, h = r['bbox']
        assert 1 <= r['category_id'] <= 5 and w >= 0 and h >= 0
        assert x + w <= 18 + 0.01 and y + h <= 16 + 0.01
    assert len(glob.glob(osp.join(out, 'vis', '*.jpg'))) == 3


def run_tool_main(argv):
    """tools/sr_detect.py as its __main__ runs it: faults are one line, exit code 2."""
    from fdsr_mm.utils import run_tool
    return run_tool('sr_detect', lambda: sr_detect.main(argv), sr_detect.EXTRA_FAULTS)


def one_error_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith('sr_detect: error: '), err
    return err[0]


def test_sr_detect_tool_bad_inputs_exit_2(tiny, capsys):
    out = str(tiny['root'] / 'none')
    assert run_tool_main([tiny['cfg'], str(tiny['root'] / 'nowhere' / '*.png'),
                          '--out-dir', out]) == 2
    assert 'no such file or folder' in one_error_line(capsys)
    assert run_tool_main([str(tiny['root'] / 'missing.py'), tiny['lr_dir'],
                          '--out-dir', out]) == 2
    assert 'missing.py does not exist' in one_error_line(capsys)


def test_packed_weights_give_the_same_detections(tiny):
    from mmdet.apis import DetInferencer
    packed = str(tiny['root'] / 'packed.pth')
    assert pack_sr_detector.main([tiny['cfg'], packed]) == 0
    state = torch.load(packed, map_location='cpu', weights_only=True)['state_dict']
    assert state and all(k.startswith('detector.') for k in state)  # no weights in the SR part
    imgs = sorted(glob.glob(tiny['lr_dir'] + '/*.png'))
    ref = DetInferencer(model=tiny['cfg'], device='cpu')(imgs, return_datasamples=True)
    from mmengine.config import Config
    cfg = Config.fromfile(tiny['cfg'])
    cfg.model.detector_checkpoint = None  # the weights come from the packed file only
    got = DetInferencer(model=cfg, weights=packed, device='cpu')(imgs, return_datasamples=True)
    for a, b in zip(ref['predictions'], got['predictions']):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)


def test_det_inferencer_weights_can_be_the_bare_detector_checkpoint(tiny):
    """weights=<mmdet model-zoo file>: its keys go under detector., the SR part keeps its own
    weights, and the class names come from that file's meta."""
    from mmdet.apis import DetInferencer
    from mmengine.config import Config
    ckpt = torch.load(tiny['ckpt'], map_location='cpu', weights_only=True)
    classes = ('striped', 'checkered', 'dotted', 'scribbled', 'ringed')
    zoo_like = str(tiny['root'] / 'zoo_like.pth')
    torch.save(dict(state_dict=ckpt['state_dict'], meta=dict(dataset_meta=dict(classes=classes))),
               zoo_like)
    imgs = sorted(glob.glob(tiny['lr_dir'] + '/*.png'))
    ref = DetInferencer(model=tiny['cfg'], device='cpu')(imgs, return_datasamples=True)
    cfg = Config.fromfile(tiny['cfg'])
    cfg.model.detector_checkpoint = None
    inferencer = DetInferencer(model=cfg, weights=zoo_like, device='cpu')
    assert tuple(inferencer.model.dataset_meta['classes']) == classes
    got = inferencer(imgs, return_datasamples=True)
    for a, b in zip(ref['predictions'], got['predictions']):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)
    # without any detector weights the predictions differ (the check above is not vacuous)
    random = DetInferencer(model=cfg, device='cpu')(imgs[:1], return_datasamples=True)
    assert not torch.equal(random['predictions'][0].pred_instances.bboxes,
                           ref['predictions'][0].pred_instances.bboxes)
