"""check_finite_state_dict: NaN/Inf weights are refused with the file and the first bad key."""
import pytest
import torch

from fdsr_mm.utils import NonFiniteError, check_finite_state_dict


def test_finite_state_dict_passes():
    check_finite_state_dict({'a.weight': torch.ones(3), 'a.num_batches': torch.tensor(7)},
                            'ok.pth')


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_names_the_source_and_the_first_non_finite_key(bad):
    weights = torch.zeros(4)
    weights[2] = bad
    state = {'generator.conv.bias': torch.zeros(2), 'generator.conv.weight': weights,
             'generator.last.weight': torch.full((2, ), float('nan'))}
    with pytest.raises(ValueError, match=r"sr\.pth: tensor 'generator\.conv\.weight' holds "
                       r'non-finite values \((1 NaN, 0 Inf|0 NaN, 1 Inf) of 4 values\)'):
        check_finite_state_dict(state, 'sr.pth')


def test_nested_checkpoint_keys_are_dotted():
    ckpt = {'meta': {'iter': 3}, 'state_dict': {'w': torch.tensor([1., float('inf')])}}
    with pytest.raises(NonFiniteError, match="tensor 'state_dict.w'"):
        check_finite_state_dict(ckpt, 'ckpt.pth')
