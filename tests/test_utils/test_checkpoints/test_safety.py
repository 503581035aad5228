"""mmengine checkpoints load with weights_only through mmengine; other pickles are still refused."""
import os
import pickle
import traceback

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import CheckpointLoader

import fdsr_mm  # noqa: F401  (installs the scoped loader)
from fdsr_mm.utils import UnsafeCheckpointError


@pytest.fixture
def mmengine_style_checkpoint(tmp_path):
    hub = MessageHub.get_instance('test_checkpoint_safety')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 7)
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': hub.state_dict(), 'meta': {'iter': 7, 'seed': np.int64(3)},
                'state_dict': {'w': torch.ones(2)}}, path)
    return path


def test_message_hub_state_loads_through_mmengine(mmengine_style_checkpoint):
    ckpt = CheckpointLoader.load_checkpoint(str(mmengine_style_checkpoint), map_location='cpu')
    restored = MessageHub.get_instance('test_checkpoint_safety_restored')
    restored.load_state_dict(ckpt['message_hub'])
    assert restored.get_scalar('train/loss').current() == 0.25
    assert restored.get_info('iter') == 7
    assert ckpt['meta']['seed'] == 3


def test_the_allow_list_is_scoped_to_mmengine_loading(mmengine_style_checkpoint):
    # A plain torch.load elsewhere keeps torch's own allow-list: nothing was widened globally.
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(mmengine_style_checkpoint, map_location='cpu')


class _Exploit:
    def __reduce__(self):
        return (print, ('this must never run',))


class _CustomState:
    """A class outside the allow-list (pickled by reference to this test module)."""


@pytest.mark.parametrize('payload, refused', [(_Exploit(), 'print'), (os.system, 'posix.system'),
                                              (_CustomState(), '_CustomState')])
def test_unknown_globals_are_refused_with_the_file_and_the_global(tmp_path, payload, refused):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': payload}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    message = str(info.value)
    assert isinstance(info.value, pickle.UnpicklingError)  # callers catching torch's type still do
    assert message.startswith(f'{path}: refused to load: it references the global `')
    assert refused in message and '\n' not in message
    # Neither the message nor the printed traceback repeats torch's advice to drop the safe loader.
    shown = ''.join(traceback.format_exception(info.value))
    assert 'weights_only=False' not in shown and 'weights_only` set to `False' not in shown
