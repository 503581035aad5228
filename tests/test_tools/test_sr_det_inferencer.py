"""SRDetInferencer: mmdet's DetInferencer for SR + detector configs, used from Python as
DetInferencer is, gives the boxes tools/sr_detect.py writes (the tool is a thin caller of it)."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from test_sr_detect import run_tool_main, tiny  # noqa: F401  (same folder)

pytestmark = pytest.mark.usefixtures('restore_default_scope')


def _coco(box):
    x0, y0, x1, y1 = box
    return [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)]


def test_sr_det_inferencer_is_a_det_inferencer_and_gives_the_tools_boxes(tiny, tmp_path):
    from mmdet.apis import DetInferencer

    from fdsr_mm.apis import SRDetInferencer
    inferencer = SRDetInferencer(tiny['cfg'], device='cpu', show_progress=False)
    assert isinstance(inferencer, DetInferencer)
    out = str(tmp_path / 'py')
    result = inferencer(tiny['lr_dir'], out_dir=out, pred_score_thr=0.0, batch_size=2,
                        return_vis=True)
    assert result['summary']['images'] == 3 and result['summary']['reused'] == 0
    assert len(result['predictions']) == len(result['visualization']) == 3
    assert all(v.shape == (16, 18, 3) and v.dtype == np.uint8 for v in result['visualization'])

    tool_out = str(tmp_path / 'tool')
    assert run_tool_main([tiny['cfg'], tiny['lr_dir'], '--out-dir', tool_out, '--batch-size',
                          '2', '--score-thr', '0.0', '--no-progress', '--device', 'cpu']) == 0
    written = json.load(open(osp.join(tool_out, 'results.bbox.json')))
    assert len(written) == 150
    for pred in result['predictions']:  # mmdet's keys, boxes in input (18 x 16) pixels
        assert set(pred) >= {'labels', 'scores', 'bboxes'}
        mine = sorted(_coco(b) for b in pred['bboxes'])
        tools = sorted(r['bbox'] for r in written if r['file_name'] == pred['file_name'])
        assert len(mine) == 50 and mine == tools
    assert open(osp.join(out, 'results.bbox.json')).read() == \
        open(osp.join(tool_out, 'results.bbox.json')).read()
    assert sorted(os.listdir(osp.join(out, 'vis'))) == sorted(
        os.listdir(osp.join(tool_out, 'vis'))) == ['img0.jpg', 'img1.jpg', 'img2.jpg']

    again = inferencer(tiny['lr_dir'], out_dir=out, pred_score_thr=0.0)  # finished: reused
    assert again['summary']['reused'] == 3 and again['predictions'] == []


def test_sr_det_inferencer_samples_carry_the_sr_image(tiny, tmp_path):
    from fdsr_mm.apis import SRDetInferencer
    inferencer = SRDetInferencer(tiny['cfg'], device='cpu', show_progress=False)
    result = inferencer(osp.join(tiny['lr_dir'], 'img0.png'), out_dir=str(tmp_path / 'o'),
                        draw_on='sr', save_sr=True, return_datasamples=True)
    sample = result['predictions'][0]
    assert sample.sr_img.shape == (64, 72, 3) and sample.sr_img.dtype == np.uint8
    assert os.listdir(str(tmp_path / 'o' / 'sr')) == ['img0.png']


def test_a_plain_detector_config_gives_det_inferencers_boxes_and_loads_strictly(tiny, tmp_path):
    """Any mmdet detector config works too; its weights are checked here (an SRDetector checks
    its own): another model's file or a NaN weight is one error line naming the file."""
    import torch
    from mmdet.apis import DetInferencer

    from fdsr_mm.apis import SRDetInferencer
    from fdsr_mm.utils.checkpoints import NonFiniteError, WeightsMismatchError
    img = osp.join(tiny['lr_dir'], 'img0.png')
    mine = SRDetInferencer(tiny['det_cfg'], weights=tiny['ckpt'], device='cpu',
                           show_progress=False)(img)['predictions'][0]
    ref = DetInferencer(tiny['det_cfg'], weights=tiny['ckpt'], device='cpu',
                        show_progress=False)(img)['predictions'][0]
    assert np.allclose(mine['bboxes'], ref['bboxes']) and mine['labels'] == ref['labels']
    state = torch.load(tiny['ckpt'], map_location='cpu', weights_only=True)['state_dict']
    other = str(tmp_path / 'other.pth')
    torch.save({'state_dict': dict(state, **{'extra.weight': torch.zeros(2)})}, other)
    with pytest.raises(WeightsMismatchError, match='do not fit the model') as err:
        SRDetInferencer(tiny['det_cfg'], weights=other, device='cpu')
    assert 'other.pth' in str(err.value) and 'extra.weight' in str(err.value)
    key = next(iter(state))
    nan = str(tmp_path / 'nan.pth')
    torch.save({'state_dict': dict(state, **{key: state[key] * float('nan')})}, nan)
    with pytest.raises(NonFiniteError, match='nan.pth'):
        SRDetInferencer(tiny['det_cfg'], weights=nan, device='cpu')
