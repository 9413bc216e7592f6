"""From graphs to results: evaluation, and (later) jit, rewrites, schedules and backends."""
