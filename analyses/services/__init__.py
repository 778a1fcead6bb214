"""Writes of the analyses app, one module per concept.

- `sessions`: practice sessions, started, joined, ended;
- `submissions`: a frame in, a stored analysis out (checked, deduplicated, dispatched);
- `pipeline`: one delivery of an analysis: claim it, analyze it, store the outcome ("run");
- `maintenance`: the operator's and the beat jobs' work on many analyses.

Services raise config.errors.ApplicationError; they start tasks on commit through `pipeline.analysis_enqueue`.
"""
