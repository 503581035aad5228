"""mmengine checkpoints load under torch's weights_only default; other pickles are still refused."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

import fdsr_mm  # noqa: F401


def test_message_hub_state_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('test_checkpoint_safety')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 7)
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': hub.state_dict(), 'meta': {'iter': 7, 'seed': np.int64(3)},
                'state_dict': {'w': torch.ones(2)}}, path)
    ckpt = torch.load(path, map_location='cpu')  # torch's default: weights_only=True
    restored = MessageHub.get_instance('test_checkpoint_safety_restored')
    restored.load_state_dict(ckpt['message_hub'])
    assert restored.get_scalar('train/loss').current() == 0.25
    assert restored.get_info('iter') == 7
    assert ckpt['meta']['seed'] == 3


class _Exploit:
    def __reduce__(self):
        return (print, ('this must never run',))


def test_unknown_globals_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Exploit()}, path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path, map_location='cpu')
