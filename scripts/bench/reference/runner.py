#!/usr/bin/python3
"""Times one reference snippet on the benchmark data written by scripts/bench/run.ts.

Usage: runner.py DATA_DIR CODE_FILE [BUDGET_SECONDS]

DATA_DIR holds meta.txt ("n 500", "p 20000", "task binary"), X.f64 (n x p float64, row-major,
little-endian) and y.f64 or time.f64 + event.f64. The snippet sees numpy arrays X, y (int labels
for class tasks, float values for continuous) or time / event, and `np`.

Only the method code is timed: the data are loaded first, and the snippet's top-level import
statements run once before timing. Timing rule (the same as for our side): one run; if it took
under 1 s, further runs within BUDGET_SECONDS (up to 20 when the first took under 0.1 s, else up
to 5) and the median of those.
Prints one JSON object: {"seconds": median wall time, "cpuSeconds": median process CPU time
(all threads), "runs": k, "all": [...]}.
"""
import ast
import json
import os
import statistics
import sys
import time as _time

import numpy as np


def load(data_dir):
    meta = {}
    with open(os.path.join(data_dir, 'meta.txt')) as f:
        for line in f:
            key, value = line.split()
            meta[key] = value
    n, p, task = int(meta['n']), int(meta['p']), meta['task']
    ns = {'np': np, 'X': np.fromfile(os.path.join(data_dir, 'X.f64'), dtype='<f8').reshape(n, p)}
    if task == 'survival':
        ns['time'] = np.fromfile(os.path.join(data_dir, 'time.f64'), dtype='<f8')
        ns['event'] = np.fromfile(os.path.join(data_dir, 'event.f64'), dtype='<f8').astype(int)
    else:
        y = np.fromfile(os.path.join(data_dir, 'y.f64'), dtype='<f8')
        ns['y'] = y.astype(int) if task in ('binary', 'multiclass') else y
    return ns


def main():
    data_dir, code_file = sys.argv[1], sys.argv[2]
    budget = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    ns = load(data_dir)
    with open(code_file) as f:
        tree = ast.parse(f.read())
    setup = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    body = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(body=setup, type_ignores=[]), '<reference-setup>', 'exec'), ns)
    timed = compile(ast.Module(body=body, type_ignores=[]), '<reference>', 'exec')

    def once():
        scope = dict(ns)
        c0 = _time.process_time()
        t0 = _time.perf_counter()
        exec(timed, scope)
        return _time.perf_counter() - t0, _time.process_time() - c0

    first = once()
    runs = [first]
    if first[0] < 1.0:
        max_runs = 20 if first[0] < 0.1 else 5
        extra = []
        while len(extra) < max_runs and first[0] + sum(r[0] for r in extra) < budget:
            extra.append(once())
        runs = extra
    print(json.dumps({'seconds': statistics.median(r[0] for r in runs),
                      'cpuSeconds': statistics.median(r[1] for r in runs),
                      'runs': len(runs), 'all': [r[0] for r in runs]}))


if __name__ == '__main__':
    main()
