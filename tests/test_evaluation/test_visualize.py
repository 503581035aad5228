"""Fig. 1 panels: class names and scores on the boxes, the ground truth in every tile in its own
dashed style, per-tile titles (method, PSNR, detections drawn) and a legend; written atomically."""
import json
import os
import pickle

import cv2
import numpy as np
import pytest
import torch

from fdsr_mm.evaluation.visualize import (GT_COLOR, PRED_COLOR, dataset_classes, draw_detections,
                                          legend_bar, render_panel, tile_title, write_panels)

CLASSES = ('person', 'car')


def _is(img, color):
    return np.all(img == np.array(color, np.uint8), axis=-1)


def _scene(h=120, w=160):
    """A BGR uint8 image: a grey gradient with a 'person' and a 'car' shape."""
    img = np.repeat(np.linspace(60, 180, w, dtype=np.uint8)[None, :, None], h, 0).repeat(3, 2)
    cv2.ellipse(img, (40, 60), (12, 30), 0, 0, 360, (40, 90, 200), -1)
    cv2.rectangle(img, (90, 70), (140, 100), (200, 120, 30), -1)
    return img


GT_BOXES = np.array([[28., 30., 52., 90.], [90., 70., 140., 100.]])
GT_LABELS = np.array([0, 1])


def test_draw_detections_labels_class_and_score_and_dashes_the_gt():
    img = np.full((120, 160, 3), 128, np.uint8)
    gt = np.array([[20., 40., 70., 90.]])
    texts = draw_detections(img, gt, np.array([0]), np.array([[100., 30., 150., 80.]]),
                            np.array([1]), np.array([0.871]), CLASSES)
    assert texts == ['person', 'car 0.87']
    # GT: a 1-px dashed green edge (dashes and gaps along the top edge), nothing on row y1 + 1
    top = _is(img[40, 20:71], GT_COLOR)
    assert 0.4 < top.mean() < 0.8 and not _is(img[41, 30:60], GT_COLOR).any()
    # prediction: a solid 2-px red edge on its bottom (label drawn above the box, not here)
    assert _is(img[80, 110:140], PRED_COLOR).all()
    # class-name labels: a filled green box below the GT box with dark text in it, a filled
    # red box above the prediction with white text in it
    below = img[91:106, 20:70]
    assert _is(below, GT_COLOR).mean() > 0.3 and (below.max(-1) < 90).sum() > 10
    above = img[14:30, 100:150]
    assert _is(above, PRED_COLOR).mean() > 0.3 and (above.min(-1) > 200).sum() > 10
    # without class names the label index is printed
    img2 = np.full((120, 160, 3), 128, np.uint8)
    assert draw_detections(img2, gt, np.array([0]), np.zeros((0, 4)), np.zeros(0, int),
                           np.zeros(0)) == ['0']


def test_render_panel_keeps_tiles_native_adds_titles_and_legend():
    src = _scene()
    tiles, fields = [], []
    for m, psnr in (('hr', None), ('bicubic', 24.5), ('fdsr', 27.25)):
        img = src.copy()
        draw_detections(img, GT_BOXES, GT_LABELS, np.zeros((0, 4)), np.zeros(0, int),
                        np.zeros(0), CLASSES)
        fields.append(tile_title(m, psnr, 0, 0.3, 1.0, 0.0))
        tiles.append((img, fields[-1]))
    assert fields[0] == ['hr', '0 det >= 0.30', 'P 1.00 R 0.00']
    assert fields[2][:2] == ['fdsr', 'PSNR 27.25 dB']
    panel = render_panel(tiles, 0.3)
    legend_h = legend_bar(3 * 160, 0.3).shape[0]
    title_h = panel.shape[0] - 120 - legend_h
    assert panel.shape[1] == 3 * 160 and panel.dtype == np.uint8 and title_h >= 14
    for k in range(3):  # each tile: its image at native size, GT dashes at the same place
        tile = panel[title_h:title_h + 120, k * 160:(k + 1) * 160]
        assert np.array_equal(tile[5:25, 60:150], src[5:25, 60:150])
        assert 0.3 < _is(tile[30, 28:53], GT_COLOR).mean() < 0.9
        assert (panel[:title_h, k * 160:(k + 1) * 160] < 100).any()  # a title is written
    legend = panel[-legend_h:]
    assert _is(legend, GT_COLOR).any() and _is(legend, PRED_COLOR).any()
    # narrow tiles: titles and legend wrap onto more lines instead of growing the width
    narrow = render_panel([(src[:, :72].copy(), f) for f in fields], 0.3)
    assert narrow.shape[1] == 3 * 72 and narrow.shape[0] > panel.shape[0]


def test_dataset_classes_from_metainfo_or_the_dataset_type():
    assert dataset_classes(dict(type='CocoDataset', metainfo=dict(classes=['a', 'b']))) == \
        ('a', 'b')
    coco = dataset_classes(dict(type='CocoDataset'))
    assert len(coco) == 80 and coco[0] == 'person' and coco[2] == 'car'
    assert dataset_classes(dict(type='VOCDataset'))[0] == 'aeroplane'


def _fake_run(root, methods, scenes):
    """What the cascade leaves for write_panels: cached SR images + iq logs + predictions."""
    out_dir = root / 'out'
    result = dict(methods={}, files=dict(json=str(out_dir / 'results.json')))
    for m, (img, psnr, preds) in zip(methods, scenes):
        cache = root / 'cache' / m
        cache.mkdir(parents=True)
        cv2.imwrite(str(cache / 'img0.png'), img)
        if psnr is not None:
            (cache / 'iq.rank0.jsonl').write_text(json.dumps(dict(file='img0.png', psnr=psnr)))
        pred_dir = out_dir / 'methods' / m
        pred_dir.mkdir(parents=True)
        boxes, labels, scores = preds
        with open(pred_dir / 'predictions.pkl', 'wb') as f:
            pickle.dump([dict(img_id=7, pred_instances=dict(
                bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                labels=torch.tensor(labels), scores=torch.tensor(scores)))], f)
        result['methods'][m] = dict(spec=dict(cache=str(cache)))
    return result


def test_write_panels_draws_gt_class_names_and_titles(tmp_path):
    hr = _scene()
    blur = cv2.resize(cv2.resize(hr, (40, 30), interpolation=cv2.INTER_AREA), (160, 120),
                      interpolation=cv2.INTER_CUBIC)
    good = ([[27, 31, 53, 88], [91, 69, 139, 101]], [0, 1], [0.93, 0.87])
    scenes = [(hr, None, good),
              (blur, 21.37, ([[80, 60, 150, 110], [5, 5, 30, 30]], [1, 0], [0.41, 0.12])),
              (hr.copy(), 27.5, good)]
    result = _fake_run(tmp_path, ['hr', 'bicubic', 'fdsr'], scenes)
    data_list = [dict(img_path='/data/img0.png', img_id=7, instances=[
        dict(bbox=[14., 15., 26., 45.], bbox_label=0, ignore_flag=0),  # HR x2: fx = fy = 2
        dict(bbox=[45., 35., 70., 50.], bbox_label=1, ignore_flag=0),
        dict(bbox=[0., 0., 5., 5.], bbox_label=1, ignore_flag=1)])]  # ignored: not drawn
    index = {'/data/img0.png': dict(file='img0.png', fx=2.0, fy=2.0, hw=[120, 160])}
    show = tmp_path / 'show'
    paths = write_panels(result, data_list, index, str(show), score_thr=0.3, classes=CLASSES)
    assert paths == [str(show / 'img0.png')] and os.listdir(show) == ['img0.png']
    panel = cv2.imread(paths[0])
    legend_h = legend_bar(3 * 160, 0.3).shape[0]
    title_h = panel.shape[0] - 120 - legend_h
    assert panel.shape == (title_h + 120 + legend_h, 3 * 160, 3)
    for k in range(3):
        tile = panel[title_h:title_h + 120, k * 160:(k + 1) * 160]
        # scaled GT (28, 30)-(52, 90): a dashed green left edge in every tile, drawn over the
        # matching prediction's red edge (its label hides the top edge); ignored box absent
        assert 0.3 < _is(tile[36:88, 28], GT_COLOR).mean() < 0.9
        assert not _is(tile[:6, :6], GT_COLOR).any()
        # GT class labels under the boxes: green filled label boxes
        assert _is(tile[91:105, 28:60], GT_COLOR).mean() > 0.3
    bicubic = panel[title_h:title_h + 120, 160:320]
    assert _is(bicubic[110, 120:148], PRED_COLOR).all()  # the 0.41 car, solid red
    assert not _is(bicubic[30, 8:28], PRED_COLOR).any()  # the 0.12 box: below score_thr
    # the same drawing step in memory gives the labels: class names with scores
    img = hr.copy()
    texts = draw_detections(img, np.array([[28., 30., 52., 90.], [90., 70., 140., 100.]]),
                            np.array([0, 1]), np.array(good[0], float), np.array(good[1]),
                            np.array(good[2]), CLASSES)
    assert texts == ['person', 'car', 'person 0.93', 'car 0.87']  # by decreasing score
    assert tile_title('bicubic', 21.37, 1, 0.3, 1.0, 0.5) == \
        ['bicubic', 'PSNR 21.37 dB', '1 det >= 0.30', 'P 1.00 R 0.50']


@pytest.mark.parametrize('psnr', [float('inf')])
def test_tile_title_inf_psnr(psnr):
    assert tile_title('identity', psnr, 0, 0.0, 1.0, 1.0)[1] == 'PSNR inf dB'


def test_crowded_predictions_label_the_best_first_and_never_overlap_labels():
    img = np.full((120, 160, 3), 128, np.uint8)
    boxes = np.array([[40., 40., 100., 100.]] * 5) + np.arange(5)[:, None]
    scores = np.array([0.31, 0.9, 0.5, 0.45, 0.35])
    texts = draw_detections(img, np.zeros((0, 4)), np.zeros(0, int), boxes, np.ones(5, int),
                            scores, CLASSES)
    # above the box and just inside it: two places, taken by the two highest scores
    assert texts == ['car 0.90', 'car 0.50']
    assert _is(img[95:105, 50:90], PRED_COLOR).any()  # every box is still drawn


def test_titles_wrap_to_narrow_tiles_at_spaces():
    from fdsr_mm.evaluation.visualize import _text_w, _wrap
    lines = _wrap(['PSNR 27.31 dB', '50 det >= 0.30', 'P 0.02 R 0.33'], 72)
    assert ' '.join(lines).split() == 'PSNR 27.31 dB 50 det >= 0.30 P 0.02 R 0.33'.split()
    assert all(_text_w(line) <= 72 for line in lines)
    assert _wrap(['a', 'b'], 400) == ['a  b']
