"""read_checked_detector_state: the one detector-weights check of SRDetector and the cascade."""
import pytest
import torch

from fdsr_mm.utils.checkpoints import NonFiniteError, WeightsMismatchError
from fdsr_mm.utils.checkpoints.detector import read_checked_detector_state

FIX = 'pass the checkpoint trained with this config'


@pytest.fixture
def detector():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))


def _save(path, state, **extra):
    torch.save(dict(state_dict=dict(state), meta=dict(dataset_meta=dict(classes=('a', ))),
                    **extra), str(path))
    return str(path)


def test_exact_weights_load_with_meta_and_module_prefixes_dropped(tmp_path, detector):
    state = {f'module.{k}': v for k, v in detector.state_dict().items()}
    path = _save(tmp_path / 'det.pth', state)
    got, meta = read_checked_detector_state(detector.state_dict(), path, 'det.py', 'CHECKPOINT',
                                            FIX)
    assert set(got) == set(detector.state_dict())
    assert all(torch.equal(got[k], v) for k, v in detector.state_dict().items())
    assert meta['dataset_meta']['classes'] == ('a', )


def test_extra_keys_are_refused_unless_allowed(tmp_path, detector):
    path = _save(tmp_path / 'det.pth', dict(detector.state_dict(), **{'mask.w': torch.ones(2)}))
    with pytest.raises(WeightsMismatchError) as err:
        read_checked_detector_state(detector.state_dict(), path, 'det.py', 'CHECKPOINT', FIX)
    assert 'mask.w' in str(err.value) and path in str(err.value) and FIX in str(err.value)
    got, _ = read_checked_detector_state(detector.state_dict(), path, 'det.py', 'CHECKPOINT',
                                         FIX, allow_extra=True)
    assert 'mask.w' in got


def test_missing_or_misshaped_weights_name_the_file_and_the_keys(tmp_path, detector):
    state = detector.state_dict()
    state.pop('1.weight')
    state['0.weight'] = torch.zeros(4, 3, 5, 5)
    path = _save(tmp_path / 'other.pth', state)
    with pytest.raises(WeightsMismatchError) as err:
        read_checked_detector_state(detector.state_dict(), path, 'det.py', 'CHECKPOINT', FIX,
                                    allow_extra=True)
    text = str(err.value)
    assert '1.weight' in text and '0.weight' in text and path in text
    assert '\n' not in text


def test_non_finite_weights_are_refused(tmp_path, detector):
    state = detector.state_dict()
    state['0.bias'] = state['0.bias'] + float('nan')
    path = _save(tmp_path / 'nan.pth', state)
    with pytest.raises(NonFiniteError) as err:
        read_checked_detector_state(detector.state_dict(), path, 'det.py', 'CHECKPOINT', FIX)
    assert '0.bias' in str(err.value) and path in str(err.value)


def test_truncated_file_is_one_error_naming_it(tmp_path, detector):
    path = _save(tmp_path / 'det.pth', detector.state_dict())
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    with pytest.raises(WeightsMismatchError) as err:
        read_checked_detector_state(detector.state_dict(), path, 'det.py', 'CHECKPOINT', FIX)
    assert 'cannot be read' in str(err.value) and path in str(err.value)
    with pytest.raises(FileNotFoundError):
        read_checked_detector_state(detector.state_dict(), str(tmp_path / 'none.pth'),
                                    'det.py', 'CHECKPOINT', FIX)
