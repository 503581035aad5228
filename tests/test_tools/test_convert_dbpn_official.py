"""tools/convert_dbpn_official.py: official key layouts convert and reproduce the official output."""
import errno
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from fdsr_mm.models import DBPN
from fdsr_mm.models.generators.dbpn_checkpoint import DBPNCheckpointMismatch

from conftest import REPO_ROOT as REPO
from conftest import load_tool
from helpers.official_dbpn_reference import OfficialDDBPN

convert_dbpn_official = load_tool('convert_dbpn_official')


@pytest.fixture(scope='module')
def official():
    torch.manual_seed(0)
    net = OfficialDDBPN().eval()
    # Random but non-trivial PReLU slopes, so a swapped slope would show in the output.
    for name, p in net.named_parameters():
        if name.endswith('act.weight'):
            p.data.uniform_(0.05, 0.5)
    return net


@pytest.mark.parametrize('with_module_prefix, deconv_impl', [(True, 'phase'), (False, 'phase'),
                                                            (False, 'native')])
def test_official_layout_converts_and_reproduces_outputs(official, tmp_path, with_module_prefix,
                                                         deconv_impl):
    """... also with the up-projections as phase convolutions (issue 22): same weights, the
    official (native ConvTranspose2d) output to 1e-5."""
    prefix = 'module.' if with_module_prefix else ''
    src = tmp_path / 'DBPN_x4.pth'
    torch.save({prefix + k: v for k, v in official.state_dict().items()}, src)
    assert len(official.state_dict()) == 155
    dst = tmp_path / 'converted.pth'
    assert convert_dbpn_official.main([str(src), str(dst)]) == 0

    ckpt = torch.load(dst, map_location='cpu')
    ours = DBPN(deconv_impl=deconv_impl).eval()
    ours.load_state_dict({k[len('generator.'):]: v for k, v in ckpt['state_dict'].items()})
    x = torch.rand(1, 3, 6, 7)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), official(x), rtol=1e-5, atol=1e-5)


def test_converted_checkpoint_loads_through_init_cfg(official, tmp_path):
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'module.' + k: v for k, v in official.state_dict().items()}, src)
    assert convert_dbpn_official.main([str(src), str(dst)]) == 0
    net = DBPN(init_cfg=dict(type='Pretrained', checkpoint=str(dst), prefix='generator.'))
    net.init_weights()
    torch.testing.assert_close(net.state_dict()['up7.conv.conv.weight'],
                               official.state_dict()['up7.conv.conv.weight'])


def test_wrong_scale_fails_naming_the_first_bad_key(tmp_path, capsys):
    x8 = DBPN(scale=8)
    src, dst = tmp_path / 'x8.pth', tmp_path / 'out.pth'
    torch.save({'module.' + k: v for k, v in x8.state_dict().items()}, src)
    assert convert_dbpn_official.main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('convert_dbpn_official: error: ') and err.count('\n') == 1
    assert "'up1.up_conv1.deconv.weight'" in err
    assert '(64, 64, 12, 12)' in err and 'x8' in err
    assert not dst.exists()


def test_wrong_variant_and_truncated_file(tmp_path):
    small = DBPN(mid_channels=32, base_channels=16, num_stages=2, dense=False)
    with pytest.raises(DBPNCheckpointMismatch, match="'feat0.conv.weight'"):
        from fdsr_mm.models.generators.dbpn_checkpoint import convert_official_dbpn
        convert_official_dbpn(small.state_dict(), DBPN())
    src = tmp_path / 'full.pth'
    torch.save(DBPN(mid_channels=8, base_channels=4, num_stages=2).state_dict(), src)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(DBPNCheckpointMismatch, match='truncated or corrupt'):
        convert_dbpn_official.load_official(str(truncated))


def test_missing_key_is_reported(official):
    from fdsr_mm.models.generators.dbpn_checkpoint import convert_official_dbpn
    sd = dict(official.state_dict())
    del sd['down3.down_conv2.act.weight']
    with pytest.raises(DBPNCheckpointMismatch, match="Missing key 'down3.down_conv2.act.weight'"):
        convert_official_dbpn(sd, DBPN())


def one_error_line(err, *names):
    """The fault is one ``error:`` line naming each of ``names``; no traceback."""
    assert err.startswith('convert_dbpn_official: error: ') and err.count('\n') == 1, err
    for name in names:
        assert str(name) in err, (name, err)


def no_tmp_left(root):
    assert not [p for p in root.rglob('*') if p.name.endswith('.tmp')]


@pytest.mark.slow
def test_text_source_is_one_error_line_from_the_command_line(tmp_path):
    src, dst = tmp_path / 'DBPN_x4.pth', tmp_path / 'out.pth'
    src.write_text('epoch,loss\n1,0.52\n')  # e.g. a training log saved under the wrong name
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools/convert_dbpn_official.py'),
                           str(src), str(dst)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 2, proc.stderr
    assert 'Traceback' not in proc.stderr
    one_error_line(proc.stderr, src)
    assert "text file starting with 'epoch,loss" in proc.stderr
    assert not dst.exists()
    no_tmp_left(tmp_path)


@pytest.mark.parametrize('content, why', [
    (b'<!DOCTYPE html><html><body>Google Drive - quota exceeded', 'HTML page'),
    (b'', 'it is empty'),
    (b'\x1f\x8b\x08\x00garbage', 'not a zip archive or a pickle'),
    (b'\x80\x02garbage after a pickle header', 'could not be read as a torch checkpoint')])
def test_non_checkpoint_sources(tmp_path, capsys, content, why):
    src, dst = tmp_path / 'DBPN_x4.pth', tmp_path / 'out.pth'
    src.write_bytes(content)
    assert convert_dbpn_official.main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    one_error_line(err, src)
    assert why in err
    assert not dst.exists()


@pytest.mark.parametrize('case', ['missing', 'folder', 'missing_config'])
def test_missing_source_or_config(tmp_path, capsys, case):
    src, dst, extra = tmp_path / 'DBPN_x4.pth', tmp_path / 'out.pth', []
    if case == 'folder':
        src.mkdir()
    elif case == 'missing_config':
        torch.save({}, src)
        extra = ['--config', str(tmp_path / 'nope.py')]
    assert convert_dbpn_official.main([str(src), str(dst), *extra]) == 2
    err = capsys.readouterr().err
    named = extra[1] if extra else src
    one_error_line(err, named)
    assert {'missing': 'does not exist', 'folder': 'is a folder',
            'missing_config': 'does not exist'}[case] in err
    assert not dst.exists()


def test_output_path_that_is_a_folder(official, tmp_path, capsys):
    src, dst = tmp_path / 'DBPN_x4.pth', tmp_path / 'checkpoints'
    torch.save(official.state_dict(), src)
    dst.mkdir()
    assert convert_dbpn_official.main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    one_error_line(err, dst, dst / 'dbpn_x4_official.pth')
    assert 'is a folder' in err
    assert dst.is_dir() and not list(dst.iterdir())
    no_tmp_left(tmp_path)


@pytest.mark.parametrize('case', ['disk_full', 'parent_is_a_file'])
def test_failed_write_leaves_nothing_behind(official, tmp_path, capsys, monkeypatch, case):
    src = tmp_path / 'DBPN_x4.pth'
    torch.save(official.state_dict(), src)
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    dst = out_dir / 'converted.pth'
    if case == 'disk_full':
        def save_half_then_fail(obj, f, *args, **kwargs):
            (open(f, 'wb') if isinstance(f, (str, os.PathLike)) else f).write(b'PK\x03\x04half')
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(torch, 'save', save_half_then_fail)
        why = os.strerror(errno.ENOSPC)
    else:
        (tmp_path / 'afile').write_text('x')
        dst = tmp_path / 'afile' / 'converted.pth'
        why = 'cannot create a file in'
    assert convert_dbpn_official.main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    one_error_line(err, dst)
    assert why in err
    assert not dst.exists() and not list(out_dir.iterdir())
    no_tmp_left(tmp_path)


def test_written_checkpoint_has_usual_permissions(official, tmp_path):
    src, dst = tmp_path / 'DBPN_x4.pth', tmp_path / 'converted.pth'
    torch.save(official.state_dict(), src)
    umask = os.umask(0o022)
    try:
        assert convert_dbpn_official.main([str(src), str(dst)]) == 0
    finally:
        os.umask(umask)
    assert (dst.stat().st_mode & 0o777) == 0o644
    no_tmp_left(tmp_path)


@pytest.mark.parametrize('same', ['same_path', 'hard_link'])
def test_destination_equal_to_the_source_is_refused(official, tmp_path, capsys, same):
    """Issue 18: converting SRC onto itself replaced the official file."""
    src = tmp_path / 'DBPN_x4.pth'
    torch.save(official.state_dict(), src)
    before = src.read_bytes()
    dst = src
    if same == 'hard_link':
        dst = tmp_path / 'other_name.pth'
        os.link(src, dst)
    assert convert_dbpn_official.main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    one_error_line(err, dst)
    assert 'is the source file itself' in err
    assert src.read_bytes() == before
    no_tmp_left(tmp_path)


def test_refused_pickle_is_one_line_without_the_unsafe_advice(tmp_path, capsys):
    """A pickle that references code is refused by our loader's line, never with torch's
    advice to retry with weights_only=False."""
    src, dst = tmp_path / 'DBPN_x4.pth', tmp_path / 'out.pth'
    torch.save({'feat0.conv.weight': torch.zeros(1), 'payload': os.system}, src)
    assert convert_dbpn_official.main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    one_error_line(err, src)
    assert 'refused to load' in err and 'system' in err
    assert 'weights_only=False' not in err and 'weights_only` set to `False' not in err
    assert not dst.exists()
