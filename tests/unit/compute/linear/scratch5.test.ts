import { fitElnet, type Target } from '../../../../compute/linear/elnet';
import { DEFAULT_CONTROL } from '../../../../compute/linear/path';
import { columnMajor, loadGolden, type GlmnetCase } from './golden';
test('mn', () => {
  const g = loadGolden<GlmnetCase>(`glmnet_multinomial.json`);
  const n = g.n[0]!,
    p = g.p[0]!;
  const data = columnMajor(g.x);
  const target: Target = { family: 'multinomial', y: g.y, nClasses: 3 };
  for (const tol of [1e-7, 1e-9, 1e-12]) {
    const t0 = performance.now();
    const res = fitElnet(data, n, p, null, target, {
      l1Ratio: 1,
      nLambda: 100,
      eps: 1e-3,
      standardize: true,
      intercept: true,
      control: { ...DEFAULT_CONTROL, tol, maxIter: 1e7 },
    });
    console.log(tol, performance.now() - t0, res.fit.passes, res.fit.lambdas.length);
  }
});
