"""Studies: a study spec (``spec.py``, an mmengine config such as ``configs/study/miniature.py``)
turned into a stage graph of train / cascade runs (``stages.py`` on ``stage_graph.py``, listed by
``dry_run.py``), and the report they end in (tables with paired-bootstrap verdicts, seeds, loss
scales, Fig. 3). The top layer: it may use every other."""
