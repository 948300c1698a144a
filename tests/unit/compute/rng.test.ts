import { Rng } from '../../../compute/core/rng';

describe('Rng (xoshiro128**)', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(xa);
  });

  it('draws uniform values in [0, 1) with mean ≈ 0.5 and normals with sd ≈ 1', () => {
    const r = new Rng(1);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const u = r.random();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      const z = r.normal();
      sq += z * z;
    }
    expect(outside).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sq / n).toBeCloseTo(1, 1);
  });

  it('forks independent, reproducible streams', () => {
    const r = new Rng(3);
    expect(r.fork(1).random()).toBe(new Rng(3).fork(1).random());
    expect(r.fork(1).random()).not.toBe(r.fork(2).random());
    expect(Array.from(r.permutation(10)).sort((x, y) => x - y)).toEqual([...Array(10).keys()]);
  });
});
