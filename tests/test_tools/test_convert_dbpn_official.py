"""tools/convert_dbpn_official.py: official key layouts convert and reproduce the official output."""
import os.path as osp
import sys

import pytest
import torch

from fdsr_mm.models import DBPN
from fdsr_mm.utils.dbpn_checkpoint import DBPNCheckpointMismatch

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                            'tools'))
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_models'))
import convert_dbpn_official  # noqa: E402
from official_dbpn_reference import OfficialDDBPN  # noqa: E402


@pytest.fixture(scope='module')
def official():
    torch.manual_seed(0)
    net = OfficialDDBPN().eval()
    # Random but non-trivial PReLU slopes, so a swapped slope would show in the output.
    for name, p in net.named_parameters():
        if name.endswith('act.weight'):
            p.data.uniform_(0.05, 0.5)
    return net


@pytest.mark.parametrize('with_module_prefix', [True, False])
def test_official_layout_converts_and_reproduces_outputs(official, tmp_path, with_module_prefix):
    prefix = 'module.' if with_module_prefix else ''
    src = tmp_path / 'DBPN_x4.pth'
    torch.save({prefix + k: v for k, v in official.state_dict().items()}, src)
    assert len(official.state_dict()) == 155
    dst = tmp_path / 'converted.pth'
    assert convert_dbpn_official.main([str(src), str(dst)]) == 0

    ckpt = torch.load(dst, map_location='cpu')
    ours = DBPN().eval()
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
    assert convert_dbpn_official.main([str(src), str(dst)]) == 1
    err = capsys.readouterr().err
    assert "'up1.up_conv1.deconv.weight'" in err
    assert '(64, 64, 12, 12)' in err and 'x8' in err
    assert not dst.exists()


def test_wrong_variant_and_truncated_file(tmp_path):
    small = DBPN(mid_channels=32, base_channels=16, num_stages=2, dense=False)
    with pytest.raises(DBPNCheckpointMismatch, match="'feat0.conv.weight'"):
        from fdsr_mm.utils.dbpn_checkpoint import convert_official_dbpn
        convert_official_dbpn(small.state_dict(), DBPN())
    src = tmp_path / 'full.pth'
    torch.save(DBPN(mid_channels=8, base_channels=4, num_stages=2).state_dict(), src)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(DBPNCheckpointMismatch, match='truncated or corrupt'):
        convert_dbpn_official.load_official(str(truncated))


def test_missing_key_is_reported(official):
    from fdsr_mm.utils.dbpn_checkpoint import convert_official_dbpn
    sd = dict(official.state_dict())
    del sd['down3.down_conv2.act.weight']
    with pytest.raises(DBPNCheckpointMismatch, match="Missing key 'down3.down_conv2.act.weight'"):
        convert_official_dbpn(sd, DBPN())
