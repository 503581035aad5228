"""Studies: stage graphs of train / cascade runs, and the report they end in (tables with
paired-bootstrap verdicts, seeds, loss scales, Fig. 3). The top layer: it may use every other."""
