"""The workload benchmark (issue 7): workloads (workload.py), the runner, result comparison, costs and
the report. Benchmark tooling only: nothing here is on lakerouter's request path."""
