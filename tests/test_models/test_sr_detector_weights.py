"""Every way weights reach an SRDetector is strict, complete and finite (issue 18, item 10).

mmdet's ``DetInferencer(weights=...)`` and mmengine's Runner (``tools/test.py CONFIG X``) load
non-strictly: before, a detector checkpoint of another architecture, an SR checkpoint or an x2
generator file loaded with warnings only and gave detections of a random or half-loaded model,
and a packed file with NaN weights loaded unchecked. Each is now one error line naming the file.

The model: the tiny RetinaNet of cascade_testlib behind a tiny DBPN x4 (a generator WITH
weights, so a half-loaded SR part is possible).
"""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT, load_tool
from fdsr_mm.utils.checkpoints.finite import NonFiniteError
from fdsr_mm.utils.checkpoints.fit import WeightsMismatchError
from helpers import cascade_testlib as lib
from helpers.sr_detector_testlib import tiny_setup

pack_sr_detector = load_tool('pack_sr_detector')

# mmdet's inference APIs set the default scope process-wide: undo it after each test
pytestmark = pytest.mark.usefixtures('restore_default_scope')

SR_DETECTOR = '''
_base_ = [{det_cfg!r}, {sr_base!r}]
model = dict(
    _delete_=True, type='SRDetector', detector={{{{_base_.model}}}},
    detector_test_pipeline={{{{_base_.test_pipeline}}}},
    sr=dict(config={sr_cfg!r}, checkpoint={sr_ckpt!r}, scale=4, tile=None),
    detector_checkpoint={det_ckpt!r},
    data_preprocessor={{{{_base_.lr_data_preprocessor}}}})
test_dataloader = dict(dataset=dict(pipeline={{{{_base_.lr_test_pipeline}}}}))
val_dataloader = test_dataloader
'''


def write_config(path, det_cfg, sr_cfg, sr_ckpt, det_ckpt):
    sr_base = osp.join(REPO_ROOT, 'configs', 'sr_detectors', '_base_', 'fdsr-x4_lr-images.py')
    with open(path, 'w') as f:
        f.write(SR_DETECTOR.format(det_cfg=det_cfg, sr_base=sr_base, sr_cfg=sr_cfg,
                                   sr_ckpt=sr_ckpt, det_ckpt=det_ckpt))
    return str(path)


def dbpn_state(scale):
    """A random tiny DBPN generator state dict (the generator of cascade_testlib's SR config)."""
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    torch.manual_seed(scale)
    with DefaultScope.overwrite_default_scope('mmagic'):
        gen = MODELS.build(dict(type='DBPN', mid_channels=16, base_channels=8, num_stages=2,
                                scale=scale, bicubic_residual=True))
    return gen.state_dict()


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """Configs with and without checkpoint paths, a packed file and the wrong files."""
    root = tmp_path_factory.mktemp('sr_detector_weights')
    setup = tiny_setup(root)
    (root / 'sr').mkdir()
    sr_cfg, sr_ckpt = lib.write_sr_model(str(root / 'sr'))
    complete = write_config(root / 'complete.py', setup['det_cfg'], sr_cfg, sr_ckpt,
                            setup['ckpt'])
    empty = write_config(root / 'empty.py', setup['det_cfg'], sr_cfg, None, None)
    packed = str(root / 'packed.pth')
    assert pack_sr_detector.main([complete, packed]) == 0
    files = dict(packed=packed, sr_checkpoint=sr_ckpt, detector=setup['ckpt'])
    files['x2_generator'] = str(root / 'dbpn_x2_generator.pth')
    torch.save(dbpn_state(2), files['x2_generator'])  # a bare generator state dict
    files['x2_restorer'] = str(root / 'dbpn_x2_restorer.pth')
    torch.save({'state_dict': {f'generator.{k}': v for k, v in dbpn_state(2).items()}},
               files['x2_restorer'])
    return dict(setup, root=root, complete=complete, empty=empty, files=files)


def _inferencer(config, weights):
    from mmdet.apis import DetInferencer
    return DetInferencer(model=config, weights=weights, device='cpu')


def _assert_one_line(err, path, *parts):
    text = str(err)
    assert '\n' not in text and path in text, text
    for part in parts:
        assert part in text, (part, text)


def test_packed_file_loads_every_weight_of_the_configs_checkpoints(world):
    from fdsr_mm.apis.inferencers import init_sr_detector
    ref = init_sr_detector(world['complete']).state_dict()
    got = _inferencer(world['empty'], world['files']['packed']).model.state_dict()
    assert got.keys() == ref.keys() and any(k.startswith('generator.') for k in got)
    for k, v in ref.items():
        assert torch.equal(got[k], v), k


@pytest.mark.parametrize('kind, parts', [
    ('sr_checkpoint', ['SR model only', 'detector.']),
    ('x2_restorer', ['of another shape', 'up1.up_conv1.deconv.weight']),
    ('x2_generator', ['bare SR generator file', 'unexpected']),
])
def test_det_inferencer_refuses_weights_of_another_model(world, kind, parts):
    path = world['files'][kind]
    with pytest.raises(WeightsMismatchError) as err:
        _inferencer(world['empty'], path)
    _assert_one_line(err.value, path, *parts)


def test_det_inferencer_refuses_a_detector_of_another_architecture(world, tiny_fpn_detector):
    path = tiny_fpn_detector[2]  # a Faster R-CNN checkpoint for the RetinaNet SRDetector
    with pytest.raises(WeightsMismatchError) as err:
        _inferencer(world['empty'], path)
    _assert_one_line(err.value, path, 'model weights missing', 'unexpected',
                     'tools/pack_sr_detector.py')


def test_bare_detector_file_needs_the_generators_weights(world):
    """The model-zoo file alone leaves a generator with weights random: refused."""
    path = world['files']['detector']
    with pytest.raises(WeightsMismatchError) as err:
        _inferencer(world['empty'], path)
    _assert_one_line(err.value, path, "detector's weights only", 'model.sr.checkpoint')
    cfg = Config.fromfile(world['empty'])
    cfg.model.sr.checkpoint = world['files']['sr_checkpoint']
    model = _inferencer(cfg, path).model  # with the SR checkpoint it is complete
    from fdsr_mm.apis.inferencers import init_sr_detector
    ref = init_sr_detector(world['complete']).state_dict()
    for k, v in model.state_dict().items():
        assert torch.equal(ref[k], v), k


def test_packed_file_with_nan_generator_is_refused(world):
    ckpt = torch.load(world['files']['packed'], map_location='cpu', weights_only=True)
    key = next(k for k in ckpt['state_dict'] if k.startswith('generator.'))
    ckpt['state_dict'][key] = torch.full_like(ckpt['state_dict'][key], float('nan'))
    path = str(world['root'] / 'packed_nan.pth')
    torch.save(ckpt, path)
    with pytest.raises(NonFiniteError) as err:
        _inferencer(world['empty'], path)
    _assert_one_line(err.value, path, key, 'NaN')


def test_direct_load_state_dict_and_strict_false_are_checked_too(world):
    from mmengine.runner import load_checkpoint

    from fdsr_mm.apis.inferencers import init_sr_detector
    model = init_sr_detector(world['empty'])
    sr_only = torch.load(world['files']['sr_checkpoint'], map_location='cpu',
                         weights_only=True)['state_dict']
    with pytest.raises(WeightsMismatchError, match='the state dict loaded into SRDetector'):
        model.load_state_dict(sr_only, strict=False)
    with pytest.raises(WeightsMismatchError) as err:
        load_checkpoint(model, world['files']['x2_restorer'], map_location='cpu', strict=False)
    _assert_one_line(err.value, world['files']['x2_restorer'])


def test_config_checkpoints_are_strict_and_finite(world):
    """model.detector_checkpoint / model.sr.checkpoint: extra, mis-shaped or NaN weights."""
    from fdsr_mm.apis.inferencers import init_sr_detector
    root, det_cfg = world['root'], world['det_cfg']
    sr_cfg = world['files']['sr_checkpoint'].replace('.pth', '.py')
    state = torch.load(world['files']['detector'], map_location='cpu',
                       weights_only=True)['state_dict']
    extra = str(root / 'det_extra.pth')
    torch.save({'state_dict': dict(state, **{'mask_head.conv.weight': torch.zeros(2)})}, extra)
    nan = str(root / 'det_nan.pth')
    key = next(iter(state))
    torch.save({'state_dict': dict(state, **{key: state[key] * float('inf')})}, nan)
    cases = [(world['files']['sr_checkpoint'], extra, WeightsMismatchError, extra,
              ['1 unexpected', 'mask_head.conv.weight']),
             (world['files']['sr_checkpoint'], nan, NonFiniteError, nan, [key, 'Inf']),
             (world['files']['x2_restorer'], world['files']['detector'], WeightsMismatchError,
              world['files']['x2_restorer'], ['model.sr.checkpoint', 'of another shape'])]
    for i, (sr_ckpt, det_ckpt, error, path, parts) in enumerate(cases):
        cfg = write_config(root / f'case{i}.py', det_cfg, sr_cfg, sr_ckpt, det_ckpt)
        with pytest.raises(error) as err:
            init_sr_detector(cfg)
        _assert_one_line(err.value, path, *parts)


def _test_tool():
    from conftest import load_tool
    return load_tool('test')


def test_tools_test_refuses_an_sr_checkpoint_and_scores_the_packed_file(world, monkeypatch,
                                                                        capsys):
    from fdsr_mm.utils.cli_errors import run_tool
    tool = _test_tool()
    sr_ckpt = world['files']['sr_checkpoint']
    for weights, code in ((sr_ckpt, 2), (world['files']['packed'], 0)):
        monkeypatch.setattr(sys, 'argv', ['test.py', world['empty'], weights, '--work-dir',
                                          str(world['root'] / 'test_work')])
        assert run_tool('test', tool.main) == code
        captured = capsys.readouterr()
        if code:
            line = captured.err.strip().splitlines()[-1]
            assert line.startswith('test: error: ') and sr_ckpt in line, captured.err[-2000:]
            assert 'coco/bbox_mAP' not in captured.out
        else:
            assert 'coco/bbox_mAP' in captured.out
