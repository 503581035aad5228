"""read_generator_state: the SR generator's weights of a restorer checkpoint (prefix removed) or
of a bare state dict; an unreadable file is one WeightsMismatchError naming it."""
import pytest
import torch

from fdsr_mm.utils.checkpoints.fit import WeightsMismatchError
from fdsr_mm.utils.checkpoints.generator import read_generator_state


def _generator():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))


def test_restorer_checkpoint_gives_the_generator_keys_without_prefix(tmp_path):
    gen = _generator().state_dict()
    state = {f'generator.{k}': v for k, v in gen.items()}
    state['pixel_loss.vgg.weight'] = torch.ones(2)  # a frozen loss module beside the generator
    state['generator_ema.0.weight'] = torch.zeros(1)  # not the 'generator.' prefix
    path = tmp_path / 'iter_200.pth'
    torch.save({'meta': {'iter': 200}, 'state_dict': state, 'optimizer': {}}, str(path))
    out = read_generator_state(str(path))
    assert list(out) == list(gen)
    for k, v in gen.items():
        assert torch.equal(out[k], v)


def test_bare_state_dict_is_returned_unchanged(tmp_path):
    gen = _generator().state_dict()
    path = tmp_path / 'bare.pth'
    torch.save(gen, str(path))
    out = read_generator_state(str(path))
    assert list(out) == list(gen)
    assert all(torch.equal(out[k], v) for k, v in gen.items())
    # 'state_dict' without generator.* keys: returned whole too
    torch.save({'state_dict': gen}, str(tmp_path / 'nested.pth'))
    assert list(read_generator_state(str(tmp_path / 'nested.pth'))) == list(gen)


def test_truncated_file_is_one_error_naming_it(tmp_path):
    whole = tmp_path / 'whole.pth'
    torch.save({'state_dict': _generator().state_dict()}, str(whole))
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(whole.read_bytes()[:200])
    with pytest.raises(WeightsMismatchError) as err:
        read_generator_state(str(cut))
    message = str(err.value)
    assert str(cut) in message and 'cannot be read' in message and '\n' not in message
