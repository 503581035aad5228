"""The study's Table 3 verdict is computed from the numbers it states."""
import pytest

from fdsr_mm.evaluation.study_report import _table3_verdict


def _result(**maps):
    return dict(detector=dict(name='ssd'),
                methods={m: dict(det=dict(mAP=v)) for m, v in maps.items()})


@pytest.mark.parametrize('fdsr, tdsr, verdict', [
    (61.2, 63.5, 'did NOT hold'), (63.5, 61.2, 'held'), (60.0, 60.0, 'held'),
    (None, 60.0, 'could not be checked')])
def test_table3_verdict_follows_the_numbers(fdsr, tdsr, verdict):
    line = _table3_verdict(_result(hr=70.0, bicubic=40.0, dbpn=50.0, tdsr=tdsr, fdsr=fdsr))
    assert f'>= TDSR (fine-tuned through this detector) {verdict}' in line
    assert f'fdsr {fdsr}' in line and f'tdsr {tdsr}' in line
