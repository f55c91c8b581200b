"""The bureau-scale benchmark's parts (bench/bureau_scale.py; docs/benchmarks.md
§机构规模基准): ``copying`` (COPY of model rows), ``build`` (the data), ``pages`` (the
users and each role's day), ``timing`` (medians, SQL counts, EXPLAIN)."""
