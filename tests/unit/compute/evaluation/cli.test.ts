/**
 * `omicselector evaluate` and `omicselector benchmark`, spawned from the compiled build
 * (bin/omicselector.js → dist/) on a small CSV. Folds and tasks then run on worker threads, and
 * the evaluate result must equal the in-process library result for the same seed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../../../compute/cli/dataset';
import { Rng } from '../../../../compute/core/rng';
import { selectFeaturesByName } from '../../../../compute/core/dataset';
import { crossValidate } from '../../../../compute/evaluation/cross-validate';

const ROOT = join(__dirname, '..', '..', '..', '..');
const BIN = join(ROOT, 'bin', 'omicselector.js');
const DIST = join(ROOT, 'dist', 'compute', 'cli', 'commands', 'benchmark.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function ensureBuilt(): void {
  const src = Math.max(
    ...['cli', 'evaluation', 'metrics', 'resampling', 'stability', 'ensemble', 'tuning'].map(d =>
      newest(join(ROOT, 'compute', d)),
    ),
    statSync(join(ROOT, 'compute', 'registry.ts')).mtimeMs,
  );
  if (existsSync(DIST) && statSync(DIST).mtimeMs >= src) return;
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  } catch {
    /* tsc emits despite type errors in files other helpers are editing */
  }
  if (!existsSync(DIST)) throw new Error('the build did not produce dist/compute/cli');
}

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let csv: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'omicselector-eval-'));
  const rng = new Rng(8);
  const n = 60;
  const p = 15;
  const lines = [
    ['sample', ...Array.from({ length: p }, (_, j) => `gene${j + 1}`), 'group'].join(','),
  ];
  for (let i = 0; i < n; i++) {
    const g = i % 2;
    const x = Array.from({ length: p }, (_, j) =>
      (rng.normal() + (j < 3 ? 1.5 * g : 0)).toFixed(4),
    );
    lines.push([`s${i + 1}`, ...x, g ? 'case' : 'control'].join(','));
  }
  csv = join(dir, 'data.csv');
  writeFileSync(csv, lines.join('\n') + '\n');
}, 600000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('omicselector evaluate', () => {
  it('--json prints one object with the documented keys, equal to the library result', async () => {
    const r = cli(
      'evaluate',
      'knn',
      '--input',
      csv,
      '--target',
      'group',
      '--features',
      'gene1,gene2,gene3',
      '--cv',
      '5',
      '--seed',
      '3',
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out)).toEqual([
      'model',
      'task',
      'metrics',
      'metrics_std',
      'folds',
      'seconds',
    ]);
    expect(out.model).toBe('knn');
    expect(out.task).toBe('binary');
    expect(out.folds).toHaveLength(5);
    expect(out.metrics.roc_auc).toBeGreaterThan(0.75);
    const { dataset } = await loadDataset({ input: csv, target: 'group' });
    const lib = await crossValidate(
      { model: { code: 'knn' } },
      selectFeaturesByName(dataset, ['gene1', 'gene2', 'gene3']),
      { code: 'stratified_kfold', args: { n_splits: 5 } },
      { rng: new Rng(3), progress: () => undefined, threads: 1 },
    );
    for (const [m, v] of Object.entries(lib.metrics)) expect(out.metrics[m]).toBeCloseTo(v, 12);
  });

  it('re-runs a selector inside every fold and names bad flags', () => {
    const r = cli(
      'evaluate',
      'knn',
      '--input',
      csv,
      '--target',
      'group',
      '--selector',
      't_test',
      '--k',
      '3',
      '--cv',
      '3',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.folds.every((f: { selected: string[] }) => f.selected.length === 3)).toBe(true);
    expect(Object.keys(out.selection_frequency)).toContain('gene1');
    expect(cli('evaluate', 'nope', '--input', csv, '--target', 'group').stderr).toMatch(
      /<model>: unknown "nope"/,
    );
    expect(
      cli('evaluate', 'knn', '--input', csv, '--target', 'group', '--features', 'gene1,zzz').stderr,
    ).toMatch(/--features: feature "zzz"/);
    expect(
      cli('evaluate', 'knn', '--input', csv, '--target', 'group', '--metrics', 'auc').stderr,
    ).toMatch(/--metrics: unknown metric "auc"/);
  });
});

describe('omicselector benchmark', () => {
  it('--json gives signatures, the signature × model table and a recommendation', () => {
    const r = cli(
      'benchmark',
      '--input',
      csv,
      '--target',
      'group',
      '--selectors',
      't_test,anova',
      '--models',
      'knn',
      '--k',
      '3',
      '--signature',
      'noise=gene10,gene11,gene12',
      '--cv',
      '3',
      '--repeats',
      '1',
      '--seed',
      '2',
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const key of ['signatures', 'table', 'recommended', 'seconds'])
      expect(out).toHaveProperty(key);
    expect(out.split).toEqual({ n_train: 36, n_test: 12, n_validation: 12 });
    expect(out.signatures.map((s: { name: string }) => s.name)).toEqual([
      't_test',
      'anova',
      'noise',
    ]);
    expect(out.table).toHaveLength(3);
    for (const row of out.table) {
      for (const part of ['train', 'cv', 'test', 'validation'])
        expect(row[part]).toHaveProperty('accuracy');
      // per-fold scores behind the CV mean (3 folds × 1 repeat), snake_case metric names
      const folds = row.cv_folds as {
        repeat: number;
        fold: number;
        n_train: number;
        n_test: number;
        metrics: Record<string, number>;
        train_metrics: Record<string, number>;
      }[];
      expect(folds.map(f => [f.repeat, f.fold])).toEqual([
        [0, 0],
        [0, 1],
        [0, 2],
      ]);
      expect(folds.reduce((a, f) => a + f.n_test, 0)).toBe(36);
      expect(folds[0]!.train_metrics).toHaveProperty('balanced_accuracy');
      const mean = folds.reduce((a, f) => a + f.metrics.accuracy!, 0) / folds.length;
      expect(row.cv.accuracy).toBeCloseTo(mean, 12);
    }
    expect(['t_test', 'anova']).toContain(out.recommended.signature);
    expect(out.recommended.reasons.length).toBeGreaterThan(2);
    const again = JSON.parse(
      cli(
        'benchmark',
        '--input',
        csv,
        '--target',
        'group',
        '--selectors',
        't_test,anova',
        '--models',
        'knn',
        '--k',
        '3',
        '--signature',
        'noise=gene10,gene11,gene12',
        '--cv',
        '3',
        '--repeats',
        '1',
        '--seed',
        '2',
        '--threads',
        '1',
        '--json',
      ).stdout,
    );
    expect(again.table).toEqual(out.table); // one thread or many: same numbers
    expect(
      cli('benchmark', '--input', csv, '--target', 'group', '--selectors', 't_test').stderr,
    ).toMatch(/--models: is required/);
  });
});
