"""tools/cascade_eval.py: faults a user can make are one ``cascade_eval: error:`` line and exit 2
(issue 18, "one line where a traceback is printed today"), found before any SR work."""
import glob
import os.path as osp

import pytest
import torch

from conftest import load_tool
from helpers import cascade_testlib as lib

cascade_eval = load_tool('cascade_eval')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('cascade_faults')
    data = str(root / 'data')
    lib.make_dataset(data, num_val=2, image_hw=(64, 64))
    cfg, ckpt = lib.make_detector(str(root / 'det'), data)
    sr_cfg, sr_ckpt = lib.write_sr_model(str(root))
    return dict(root=root, cfg=cfg, ckpt=ckpt, sr=f'dbpn={sr_cfg}:{sr_ckpt}')


def _one_line(capsys, *expected):
    err = capsys.readouterr().err
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith('cascade_eval: error: '), err
    for text in expected:
        assert text in err, err
    return err


def _no_work(out):
    assert glob.glob(osp.join(out, '**', '*.png'), recursive=True) == []
    assert not osp.exists(osp.join(out, 'results.json'))


def test_swapped_config_and_checkpoint(tiny, capsys):
    out = str(tiny['root'] / 'swapped')
    assert cascade_eval.main([tiny['ckpt'], tiny['cfg'], '--out-dir', out]) == 2
    _one_line(capsys, 'the detector config and checkpoint are swapped',
              f'pass the config first: cascade_eval {tiny["cfg"]} {tiny["ckpt"]}')
    _no_work(out)


def test_refused_pickle_is_one_line(tiny, capsys):
    """A detector checkpoint that references os.system: refused by the safe loader, one line
    naming the file and the global, without torch's advice to turn the safe loader off."""
    import os
    evil = str(tiny['root'] / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': os.system}, evil)
    out = str(tiny['root'] / 'evil_out')
    assert cascade_eval.main([tiny['cfg'], evil, '--out-dir', out,
                              '--methods', 'hr', 'bicubic']) == 2
    err = _one_line(capsys, evil, 'refused to load', 'system')
    assert 'weights_only' not in err
    _no_work(out)
    # the same file as an SR method's checkpoint
    sr_cfg = tiny['sr'].split('=', 1)[1].rsplit(':', 1)[0]
    assert cascade_eval.main([tiny['cfg'], tiny['ckpt'], '--out-dir', out,
                              '--methods', 'hr', f'evil={sr_cfg}:{evil}']) == 2
    err = _one_line(capsys, evil, 'refused to load', 'system')
    assert 'weights_only' not in err
    _no_work(out)


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU')
def test_device_cuda_without_a_gpu(tiny, capsys):
    out = str(tiny['root'] / 'cuda')
    assert cascade_eval.main([tiny['cfg'], tiny['ckpt'], '--out-dir', out,
                              '--device', 'cuda']) == 2
    _one_line(capsys, 'no CUDA GPU is available', '(--device cuda)', 'leave --device out')
    _no_work(out)


def test_unknown_device(tiny, capsys):
    out = str(tiny['root'] / 'bad_device')
    assert cascade_eval.main([tiny['cfg'], tiny['ckpt'], '--out-dir', out,
                              '--device', 'gpu0']) == 2
    _one_line(capsys, 'unknown device', '--device gpu0')


def test_sr_scale_disagreeing_with_the_sr_config(tiny, capsys):
    out = str(tiny['root'] / 'scale')
    assert cascade_eval.main([tiny['cfg'], tiny['ckpt'], '--out-dir', out, '--scale', '2',
                              '--methods', 'hr', tiny['sr']]) == 2
    _one_line(capsys, 'the SR scale 2 disagrees with the x4 generator of method',
              'model.generator.scale=4', '(--scale)', 'pass --scale 4')
    _no_work(out)


def test_sr_module_with_another_scale_is_probed(tiny):
    """A generator given as a module (no config to read) is probed on an 8x8 LR image."""
    from fdsr_mm.apis import CascadeError, SRMethod, run_cascade
    x1 = SRMethod('ident', generator=lib.ScaleOneIdentity(), cache_key='ident')
    with pytest.raises(CascadeError, match=r'upscales x1 .*\(--scale\): pass --scale 1'):
        run_cascade(tiny['cfg'], tiny['ckpt'], [x1], str(tiny['root'] / 'probe'), scale=4,
                    progress=False)


def test_tile_pad_below_the_generator_field(tiny, capsys):
    out = str(tiny['root'] / 'pad')
    assert cascade_eval.main([tiny['cfg'], tiny['ckpt'], '--out-dir', out, '--tile', '8',
                              '--tile-pad', '2', '--methods', tiny['sr']]) == 2
    _one_line(capsys, 'tile_pad 2 is smaller than the receptive field (6 LR px)')
    _no_work(out)
