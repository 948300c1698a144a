/**
 * stats/lazy.ts (records built on first read) and the two-group mean kernel behind fold_change.
 * Tolerance: group means 1e-12 relative to a plain per-group loop.
 */
import { deserialize, serialize } from 'node:v8';
import { MessageChannel } from 'node:worker_threads';
import { Rng } from '../../../../compute/core/rng';
import { groupMeans, groupMoments } from '../../../../compute/stats/columns';
import { recordOf, withLazy } from '../../../../compute/stats/lazy';
import { selectByScore, selectTop } from '../../../../compute/stats/selection';

describe('withLazy', () => {
  const make = () => {
    let builds = 0;
    const obj = withLazy(
      { a: 1 },
      {
        rec: () => {
          builds++;
          return recordOf(['x', 'y'], [2, NaN]);
        },
      },
    );
    return { obj, builds: () => builds };
  };
  it('builds once, on first read, and every copy path sees the value', async () => {
    const { obj, builds } = make();
    expect(builds()).toBe(0);
    expect(Object.keys(obj)).toEqual(['a', 'rec']);
    expect(JSON.parse(JSON.stringify(obj))).toEqual({ a: 1, rec: { x: 2, y: null } });
    expect(builds()).toBe(1);
    expect(obj.rec).toBe(obj.rec);
    expect(builds()).toBe(1);
    expect(structuredClone(make().obj)).toEqual({ a: 1, rec: { x: 2, y: NaN } });
    expect(deserialize(serialize(make().obj))).toEqual({ a: 1, rec: { x: 2, y: NaN } });
    expect({ ...make().obj }).toEqual({ a: 1, rec: { x: 2, y: NaN } });
    const { port1, port2 } = new MessageChannel();
    const got = new Promise(resolve => port2.once('message', resolve));
    port1.postMessage(make().obj);
    await expect(got).resolves.toEqual({ a: 1, rec: { x: 2, y: NaN } });
    port1.close();
  });
  it('an assignment before the first read replaces the builder', () => {
    const { obj, builds } = make();
    obj.rec = { z: 3 };
    expect(obj.rec).toEqual({ z: 3 });
    expect(builds()).toBe(0);
  });
});

describe('groupMeans (two groups)', () => {
  const rng = new Rng(5);
  const n = 37;
  const p = 9;
  const data = new Float64Array(n * p);
  for (let i = 0; i < data.length; i++) data[i] = 1000 + rng.normal() * (1 + (i % 7));
  data[3 * n + 4] = NaN; // feature 4 has a missing value
  data[6 * n] = NaN;
  const labels = Int32Array.from({ length: n }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
  it('matches a per-group loop, NaN skipped per feature', () => {
    const gm = groupMeans(data, n, p, labels, 2);
    for (let j = 0; j < p; j++) {
      for (const g of [0, 1]) {
        let s = 0;
        let c = 0;
        for (let i = 0; i < n; i++) {
          const v = data[j * n + i]!;
          if (labels[i] === g && v === v) {
            s += v;
            c++;
          }
        }
        expect(gm.count[2 * j + g]).toBe(c);
        expect(Math.abs(gm.mean[2 * j + g]! - s / c)).toBeLessThanOrEqual(1e-12 * Math.abs(s / c));
      }
    }
    const ref = groupMoments(data, n, p, labels, 2);
    expect(Array.from(gm.count)).toEqual(Array.from(ref.count));
  });
  it('labels that are not a 0/1 split of every sample take the general path', () => {
    const partial = labels.map((l, i) => (i === 0 ? -1 : l));
    const gm = groupMeans(data, n, p, partial, 2);
    expect(gm.count[0]! + gm.count[1]!).toBe(n - 1);
  });
});

describe('selectTop', () => {
  it('selects exactly what selectByScore selects, in the same order', () => {
    const names = Array.from({ length: 50 }, (_, j) => `g${j}`);
    const scores = Float64Array.from(names, (_, j) => (j % 5 === 0 ? NaN : (j * 37) % 11));
    const keep = (j: number) => scores[j]! >= 4;
    for (const k of [undefined, 0, 3, 60]) {
      expect(selectTop({ featureNames: names }, scores, k, keep)).toEqual(
        selectByScore({ featureNames: names }, scores, k, keep).selected,
      );
    }
  });
});
