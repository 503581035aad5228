"""The report stage of a :class:`fdsr_mm.study.stages.Study`: what it passes to
:func:`fdsr_mm.study.report.write_study_report` (result files, Fig. 3 points, claims, seeds, loss
scales) and the call itself, with the spec's title, description and Table 2 columns."""
import os.path as osp
import time

from fdsr_mm.study.extras import loss_scale_section, seeds_section
from fdsr_mm.study.report import write_study_report
from fdsr_mm.study.stage_graph import Stage
from fdsr_mm.study.transfer import write_transfer


class ReportStage:
    """Mixed into :class:`fdsr_mm.study.stages.Study` (uses its ``spec``, ``evaluators``,
    ``sizes``, ``seeds``, ``quick``, ``stages`` and ``stage_dir``)."""

    def fig3_methods(self) -> list:
        return list(self.spec.report.get('fig3_methods', []))

    def table3_evaluator(self):
        return next((d for d, e in self.spec.evaluators.items() if e.get('table3')), None)

    def cascade_results(self, det: str, k: int = 0) -> str:
        return osp.join(self.stage_dir(f'cascade_{det}' + (f'_s{k}' if k else '')),
                        'results.json')

    def report_arguments(self) -> dict:
        """What the report stage passes to :func:`write_study_report` and the extra sections."""
        t3 = self.table3_evaluator()
        variants = self.spec.sr_variants
        fig3 = {m: (variants[m]['alpha'], variants[m]['beta']) for m in self.fig3_methods()}
        names = {d: d for d in self.evaluators}
        if t3:  # the Table 3 run is named after its detector config in the report
            names[t3] = osp.splitext(osp.basename(self.spec.det_configs[t3]))[0]
        return dict(
            out_dir=self.stage_dir('report'),
            result_files={d: self.cascade_results(d) for d in self.evaluators if d != t3},
            fig3_settings=fig3,
            panels_dir=osp.join(self.stage_dir(f'cascade_{self.evaluators[0]}'), 'panels'),
            quick=self.quick, table3_file=self.cascade_results(t3) if t3 else None,
            priors=dict(self.spec.report.get('other_priors', {})),
            num_resamples=self.sizes['resamples'],
            loss_scales=[{m: self.stage_dir(f'sr_{m}') for m in fig3 if variants[m].get('prior')},
                         fig3],
            seeds=[{d: [self.cascade_results(d, k) for k in range(self.seeds)]
                    for d in self.evaluators},
                   {d: self.spec.seeded_methods(d) for d in self.evaluators}, self.seed],
            comparisons=self.spec.comparisons(names))

    def report(self, stage: Stage):
        a = self.report_arguments()
        timings = {n: (self.read_stage(n) or {}).get('seconds') for n in self.stages
                   if n != 'report'}
        extras = [loss_scale_section(*a['loss_scales']), seeds_section(*a['seeds'])]
        if self.spec.report.get('transfer'):  # a benchmark study's transfer matrix
            extras.insert(0, write_transfer(a['out_dir'], a['result_files'],
                                            self.spec.report['transfer']))
        texts = {k: self.spec.report[k] for k in ('title', 'description', 'table_methods')
                 if k in self.spec.report}
        write_study_report(a['out_dir'], a['result_files'], fig3_settings=a['fig3_settings'],
                           panels_dir=a['panels_dir'], timings=timings, quick=a['quick'],
                           total_seconds=time.time() - self.t0, table3_file=a['table3_file'],
                           priors=a['priors'], num_resamples=a['num_resamples'],
                           extra_sections=extras, comparisons=a['comparisons'],
                           seeded_files=a['seeds'][0], **texts)
        return None
