/**
 * `cox` model against survival::coxph / survfit (scripts/fixtures/survival.R). Tolerances:
 * coefficients 1e-7 (tight coxph), ridge 1e-6, survival curves 1e-6, Harrell's C of the risk exact.
 */
import { parseArgs } from '../../../../compute/core/args';
import { fromRows } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { coxModel, type CoxModel, type CoxModelArgs } from '../../../../compute/models/cox';
import { harrellC } from '../../../../compute/survival/concordance';
import { golden } from '../misc/fixture';

interface Fx {
  n: number;
  p: number;
  X: number[][];
  time: number[];
  status: number[];
  efron: number[];
  ridge_theta: number[];
  ridge: number[];
  newx: number[][];
  surv_time: number[];
  surv: number[][];
  c_risk: number[];
}
const fx = golden<Fx>('survival', 'coxph.json');
const ds = fromRows(fx.X, undefined, {
  kind: 'survival',
  time: Float64Array.from(fx.time),
  event: Uint8Array.from(fx.status),
});
const args = (raw: Record<string, unknown> = {}): CoxModelArgs =>
  parseArgs(coxModel.args, raw) as unknown as CoxModelArgs;

describe('cox model', () => {
  it('coefficients, survival curves and concordance match R', async () => {
    const model = (await coxModel.fit(ds, args(), quietContext(1))) as CoxModel;
    fx.efron.forEach((b, j) => expect(Math.abs(model.coef[j]! - b)).toBeLessThan(1e-7));
    const curves = model.survivalCurves(fromRows(fx.newx, ds.featureNames), fx.surv_time);
    fx.surv.flat().forEach((v, i) => expect(Math.abs(curves.survival[i]! - v)).toBeLessThan(1e-6));
    const pred = model.predict(ds);
    if (pred.kind !== 'risk') throw new Error('risk expected');
    expect(harrellC(pred.risk, fx.time, fx.status).concordance).toBeCloseTo(fx.c_risk[0]!, 12);
    const loaded = coxModel.load(JSON.parse(JSON.stringify(model.save()))) as CoxModel;
    expect(loaded.predict(ds)).toEqual(pred);
    expect(loaded.survivalCurves(ds).survival).toEqual(model.survivalCurves(ds).survival);
  });

  it('ridge alpha maps to coxph ridge theta = n · alpha', async () => {
    const model = (await coxModel.fit(
      ds,
      args({ alpha: fx.ridge_theta[0]! / fx.n }),
      quietContext(1),
    )) as CoxModel;
    fx.ridge.forEach((b, j) => expect(Math.abs(model.coef[j]! - b)).toBeLessThan(1e-6));
  });

  it('explains a singular fit and predicts with reordered columns', async () => {
    const dup = fromRows(
      fx.X.map(r => [...r, r[0]!]),
      [...ds.featureNames, 'copy'],
      ds.outcome,
    );
    await expect(coxModel.fit(dup, args(), quietContext(1))).rejects.toThrow(/singular.*alpha > 0/);
    const model = await coxModel.fit(ds, args(), quietContext(1));
    const rev = fromRows(
      fx.X.map(r => [...r].reverse()),
      [...ds.featureNames].reverse(),
    );
    expect(model.predict(rev)).toEqual(model.predict(ds));
  });

  it('names the constant and identical features behind a singular fit (robustness sweep)', async () => {
    const bad = fromRows(
      fx.X.map(r => [...r, 7, r[1]!]),
      [...ds.featureNames, 'flat', 'twin'],
      ds.outcome,
    );
    const err = coxModel.fit(bad, args(), quietContext(1));
    await expect(err).rejects.toThrow(/singular.*constant: "flat"/);
    await expect(err).rejects.toThrow(new RegExp(`identical: "twin" = "${ds.featureNames[1]}"`));
  });
});
