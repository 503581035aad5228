"""The claims and the report's transfer matrix of a study spec: their checks and the claims as
:class:`~fdsr_mm.study.verdicts.Comparison`\\ s (mixed into :class:`~fdsr_mm.study.spec.
StudySpec`, which provides ``claims``, ``report``, ``evaluators``, ``detectors``,
``cascade_methods``, ``fail`` and ``_need``).

A claim ``dict(evaluator, a, b[, metric, text, paper, evaluator_b, relative_to])`` reads "b > a"
on the evaluator's run. ``evaluator_b``: b is scored by that evaluator instead (the same images,
paired by id). ``relative_to``: "b loses less than a", i.e. ``[b - a on evaluator] - [b - a on
relative_to]`` > 0, e.g. off the diagonal of a transfer matrix against its diagonal.
"""
from typing import Dict, List

from fdsr_mm.study.verdicts import Comparison


class ClaimChecks:
    """The checks and conversions of ``claims`` and ``report.transfer``."""

    def _check_transfer(self, transfer) -> None:
        """``report.transfer``: every row method run by every listed evaluator."""
        if not transfer:
            return
        for e in transfer.get('evaluators', ()):
            self._need('report.transfer.evaluators', e, self.evaluators, 'evaluator')
            for m, (_, trained_with) in transfer.get('rows', {}).items():
                self._need(f'report.transfer.rows.{m}', m, self.cascade_methods(e),
                           f'method of the {e} cascade')
                if trained_with is not None:
                    self._need(f'report.transfer.rows.{m}', trained_with, self.detectors,
                               'detector')

    def _check_claims(self) -> None:
        """Each side's method is run by its evaluator (b's: ``evaluator_b``, default
        ``evaluator``; both by ``relative_to``); every evaluator of one claim scores the same
        images (one data stage)."""
        for cid, c in self.claims.items():
            if 'evaluator_b' in c and 'relative_to' in c:
                self.fail(f'claims.{cid}.relative_to', 'a claim takes evaluator_b or '
                          'relative_to, not both', 'state them as two claims')
            sides = dict(a='evaluator', b='evaluator_b' if 'evaluator_b' in c else 'evaluator')
            keys = list(dict.fromkeys([*sides.values(), *(['relative_to'] if 'relative_to' in c
                                                          else [])]))
            for key in keys:
                self._need(f'claims.{cid}.{key}', c.get(key), self.evaluators, 'evaluator')
            data = {key: self.detectors[c[key]]['data'] for key in keys}
            if len(set(data.values())) > 1:
                other = keys[-1]
                self.fail(f'claims.{cid}.{other}', f'{c[other]} evaluates data '
                          f'{data[other]!r}, {c["evaluator"]} {data["evaluator"]!r}',
                          'a claim across two evaluators pairs their test images: name '
                          'evaluators of the same data stage')
            runs = [(side, c[key]) for side, key in sides.items()]
            if 'relative_to' in c:
                runs += [(side, c['relative_to']) for side in ('a', 'b')]
            for side, evaluator in runs:
                self._need(f'claims.{cid}.{side}', c.get(side), self.cascade_methods(evaluator),
                           f'method of the {evaluator} cascade')

    def comparisons(self, report_names: Dict[str, str]) -> List[Comparison]:
        """The claims as :class:`Comparison`\\ s; ``report_names``: evaluator -> the name its
        results carry in the report (the Table 3 run: its detector config's name)."""
        def name(c, key):
            return report_names[c[key]] if key in c else None

        return [Comparison(report_names[c['evaluator']], c.get('text', _claim_text(c)), c['a'],
                           c['b'], c.get('metric', 'AP'), c.get('paper', ''),
                           name(c, 'evaluator_b'), name(c, 'relative_to'))
                for c in self.claims.values()]


def _claim_text(claim: dict) -> str:
    """``b > a``; ``b (evaluator_b) > a (evaluator)`` across two evaluators; ``b loses less than
    a from relative_to to evaluator``."""
    if 'relative_to' in claim:
        return (f'{claim["b"]} loses less than {claim["a"]} from {claim["relative_to"]} to '
                f'{claim["evaluator"]}')
    if 'evaluator_b' not in claim:
        return f'{claim["b"]} > {claim["a"]}'
    return f'{claim["b"]} ({claim["evaluator_b"]}) > {claim["a"]} ({claim["evaluator"]})'
