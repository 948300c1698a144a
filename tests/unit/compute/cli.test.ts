/**
 * The real CLI: spawns `node bin/omicselector.js` (the compiled dist/ build) on small CSV files.
 * Builds dist/ first when it is missing or older than the CLI / registry sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quietContext } from '../../../compute/core/method';
import { Rng } from '../../../compute/core/rng';
import { loadDataset } from '../../../compute/cli/dataset';
import { allMethods, getSelector } from '../../../compute/registry';
import { parseArgs } from '../../../compute/core/args';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'omicselector.js');
const DIST_MAIN = join(ROOT, 'dist', 'compute', 'cli', 'main.js');
/** The launcher's entry (the top-level cli/ composes these offline commands with remote ones). */
const DIST_ENTRY = join(ROOT, 'dist', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const src = Math.max(
    newestSource(join(ROOT, 'compute', 'cli')),
    newestSource(join(ROOT, 'compute', 'selectors')),
    existsSync(join(ROOT, 'cli')) ? newestSource(join(ROOT, 'cli')) : 0,
    statSync(join(ROOT, 'compute', 'registry.ts')).mtimeMs,
  );
  const fresh = (f: string) => existsSync(f) && statSync(f).mtimeMs >= src;
  if (fresh(DIST_MAIN) && (!existsSync(join(ROOT, 'cli')) || fresh(DIST_ENTRY))) return;
  // tsc still emits when unrelated files have type errors; only a missing output is fatal.
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  } catch {
    /* type errors elsewhere */
  }
  if (!existsSync(DIST_MAIN))
    throw new Error('npm run build did not produce dist/compute/cli/main.js');
}

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let binaryCsv: string;
let numericCsv: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'omicselector-cli-'));
  const rng = new Rng(5);
  const n = 30;
  const p = 12;
  const header = ['sample', ...Array.from({ length: p }, (_, j) => `gene${j + 1}`)];
  const bin = [[...header, 'group'].join(',')];
  const num = [[...header, 'y', 'time', 'event'].join(',')];
  for (let i = 0; i < n; i++) {
    const g = i % 2;
    const x = Array.from({ length: p }, (_, j) =>
      (5 + rng.normal() + (j < 3 ? 2 * g : 0)).toFixed(4),
    );
    const y = (Number(x[0]) * 1.5 + rng.normal()).toFixed(4);
    bin.push([`s${i + 1}`, ...x, g ? 'case' : 'control'].join(','));
    num.push(
      [`s${i + 1}`, ...x, y, (1 + rng.random() * 50).toFixed(2), String(i % 3 === 0 ? 0 : 1)].join(
        ',',
      ),
    );
  }
  binaryCsv = join(dir, 'binary.csv');
  numericCsv = join(dir, 'numeric.csv');
  writeFileSync(binaryCsv, bin.join('\n') + '\n');
  writeFileSync(numericCsv, num.join('\n') + '\n');
}, 600000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('omicselector select', () => {
  it('--json prints exactly one JSON object with the documented keys, equal to the library result', async () => {
    const r = cli('select', 't_test', '--input', binaryCsv, '--target', 'group', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out)).toEqual([
      'method',
      'task',
      'selected',
      'scores',
      'params',
      'diagnostics',
      'backend',
      'seconds',
    ]);
    expect(out.method).toBe('t_test');
    expect(out.task).toBe('binary');
    expect(out.backend).toBe('float64');
    expect(out.seconds).toBeGreaterThanOrEqual(0);
    expect(Object.keys(out.scores)).toHaveLength(12);
    const { dataset } = await loadDataset({ input: binaryCsv, target: 'group' });
    const def = getSelector('t_test');
    const lib = await def.run(dataset, parseArgs(def.args, {}) as never, quietContext(42));
    expect(out.selected).toEqual(lib.selected);
    expect(out.selected.slice(0, 3).sort()).toEqual(['gene1', 'gene2', 'gene3']);
  });

  it('--k and --param reach the method; --positive-class sets the positive class', () => {
    const r = cli(
      'select',
      'mann_whitney',
      '--input',
      binaryCsv,
      '--target',
      'group',
      '--k',
      '2',
      '--param',
      'p_adjust=holm',
      '--param',
      'alpha=0.01',
      '--positive-class',
      'case',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.selected).toHaveLength(2);
    expect(out.params).toEqual({ p_adjust: 'holm', alpha: 0.01 });
    expect(out.diagnostics.statisticOf).toBe('case');
  });

  it('without --json prints a readable table on stdout', () => {
    const r = cli('select', 'anova', '--input', binaryCsv, '--target', 'group', '--k', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/selected 3 of 12 \(top 3\)/);
    expect(r.stdout).toMatch(/rank\s+feature\s+score\s+p-value\s+adj\. p/);
    expect(r.stdout.trim().split('\n').length).toBe(4 + 2 + 3);
  });

  it('types a numeric target with many values as continuous, and reads survival columns', () => {
    const c = JSON.parse(
      cli('select', 'correlation', '--input', numericCsv, '--target', 'y', '--json').stdout,
    );
    expect(c.task).toBe('continuous');
    expect(c.selected[0]).toBe('gene1');
    const s = cli(
      'select',
      'variance_threshold',
      '--input',
      numericCsv,
      '--time',
      'time',
      '--event',
      'event',
      '--json',
    );
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).task).toBe('survival');
    // unsupervised method, no outcome at all
    const u = JSON.parse(
      cli(
        'select',
        'variance_threshold',
        '--input',
        binaryCsv.replace('binary', 'numeric'),
        '--json',
      ).stdout,
    );
    expect(u.task).toBe('unsupervised');
  });

  it.each([
    [['select', 't_test', '--input', 'BINARY'], /--target: t_test needs an outcome/],
    [['select', 't_test', '--input', 'BINARY', '--target', 'group', '--k', '-1'], /--k/],
    [
      ['select', 't_test', '--input', 'BINARY', '--target', 'group', '--param', 'alpha'],
      /--param: expects key=value/,
    ],
    [
      ['select', 't_test', '--input', 'BINARY', '--target', 'group', '--param', 'alhpa=0.1'],
      /--param alhpa: unknown parameter/,
    ],
    [
      ['select', 't_test', '--input', 'BINARY', '--target', 'group', '--param', 'alpha=2'],
      /--param alpha: must be ≤ 1/,
    ],
    [['select', 'nope', '--input', 'BINARY'], /unknown selector "nope"/],
    [
      ['select', 't_test', '--input', 'BINARY', '--target', 'group', '--bogus'],
      /unknown option '--bogus'/,
    ],
    [
      ['select', 't_test', '--input', 'BINARY', '--time', 'x'],
      /--event: survival outcomes need both/,
    ],
    [['select', 't_test', '--input', '/no/such.csv', '--target', 'group'], /--input: no such file/],
    [
      ['select', 't_test', '--input', 'BINARY', '--target', 'group', '--backend', 'gpu9'],
      /--backend: must be one of/,
    ],
    [
      ['select', 't_test', '--input', 'BINARY', '--target', 'group', '--positive-class', 'x'],
      /--positive-class: "x" is not a value/,
    ],
    [
      ['select', 'correlation', '--input', 'BINARY', '--target', 'group'],
      /--target: correlation supports continuous/,
    ],
  ])('bad usage %j exits 2 naming the flag', (args, message) => {
    const r = cli(...(args as string[]).map(a => (a === 'BINARY' ? binaryCsv : a)));
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('bad data exits 1 with the reader’s message', () => {
    // with --target gene1 the text column "group" is read as a feature
    const r = cli('select', 'anova', '--input', binaryCsv, '--target', 'gene1', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"control" is not a number/);
  });
});

describe('omicselector methods', () => {
  it('--json lists the whole registry with argument specs', () => {
    const r = cli('methods', '--json');
    expect(r.code).toBe(0);
    const reg = JSON.parse(r.stdout) as Record<string, { code: string; args?: object }[]>;
    const codes = Object.values(reg).flatMap(list => list.map(m => m.code));
    expect(codes.sort()).toEqual(
      allMethods()
        .map(m => m.code)
        .sort(),
    );
    const t = reg.selectors!.find(m => m.code === 't_test')!;
    expect(t.args).toMatchObject({ p_adjust: { type: 'enum', default: 'bh' } });
  });

  it('prints a table without --json', () => {
    const r = cli('methods');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^selectors \(\d+\)/);
    expect(r.stdout).toMatch(/t_test\s+t-test\s+binary/);
  });

  it('is reachable through npx omicselector', () => {
    const r = spawnSync('npx', ['--no-install', 'omicselector', 'methods', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).selectors.length).toBeGreaterThan(0);
  });
});
