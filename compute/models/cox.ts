/**
 * Cox proportional-hazards model (survival::coxph semantics): Newton–Raphson on the partial
 * likelihood with Efron (default) or Breslow ties, optionally ridge-penalised with
 * −ℓ(β)/n + alpha/2 · ‖β‖² on the original feature scale (= coxph(ridge(…, theta = n·alpha,
 * scale = FALSE))). Use alpha > 0 when features outnumber events.
 *
 * predict → risk = x·β̂ (the linear predictor without coxph's centring; rankings and hazard ratios
 * are unchanged). Survival curves S(t | x) = exp(−H₀(t) e^{(x − x̄)·β̂}) with the Breslow baseline
 * hazard H₀ (survfit(…, ctype = 1)).
 */
import { type ArgSpecs } from '../core/args';
import { selectFeaturesByName, type Dataset } from '../core/dataset';
import {
  assertModelState,
  checkAbort,
  type FittedModel,
  type ModelDef,
  type ModelState,
  type Prediction,
} from '../core/method';
import { decodeF64, encodeF64 } from '../kernels/base64';
import { assertComplete } from '../selectors/mrmr';
import { breslowBaseline, cumhazAt, type BaselineHazard } from '../survival/baseline';
import { coxFit } from '../survival/coxph';
import { survivalOutcome } from '../survival/risk-sets';

const coxModelArgs = {
  alpha: {
    type: 'number',
    default: 0,
    min: 0,
    doc: 'Ridge penalty on the mean partial log-likelihood (0 = unpenalised coxph).',
  },
  ties: { type: 'enum', values: ['efron', 'breslow'], default: 'efron', doc: 'Tied event times.' },
  max_iter: { type: 'integer', default: 50, min: 1, doc: 'Newton–Raphson iterations.' },
} satisfies ArgSpecs;

export interface CoxModelArgs {
  alpha: number;
  ties: 'efron' | 'breslow';
  max_iter: number;
}

export class CoxModel implements FittedModel {
  readonly code = 'cox';

  constructor(
    readonly featureNames: string[],
    readonly coef: Float64Array,
    private readonly means: Float64Array,
    readonly baseline: BaselineHazard,
    private readonly params: Record<string, unknown>,
  ) {}

  /** Linear predictor x·β̂ per row. */
  linearPredictor(ds: Dataset): Float64Array {
    const q = selectFeaturesByName(ds, this.featureNames);
    const m = q.nSamples;
    const lp = new Float64Array(m);
    for (let j = 0; j < this.coef.length; j++) {
      const b = this.coef[j]!;
      const off = j * m;
      for (let i = 0; i < m; i++) lp[i] += b * q.data[off + i]!;
    }
    return lp;
  }

  predict(ds: Dataset): Prediction {
    return { kind: 'risk', risk: this.linearPredictor(ds) };
  }

  /** Survival probabilities at `times` (default: the training event times), row-major m × T. */
  survivalCurves(
    ds: Dataset,
    times?: ArrayLike<number>,
  ): { times: Float64Array; survival: Float64Array } {
    const t = Float64Array.from(times ?? this.baseline.times);
    const lp = this.linearPredictor(ds);
    let centre = 0;
    for (let j = 0; j < this.coef.length; j++) centre += this.coef[j]! * this.means[j]!;
    const H = Float64Array.from(t, v => cumhazAt(this.baseline, v));
    const survival = new Float64Array(lp.length * t.length);
    lp.forEach((v, i) => {
      const r = Math.exp(v - centre);
      for (let k = 0; k < t.length; k++) survival[i * t.length + k] = Math.exp(-H[k]! * r);
    });
    return { times: t, survival };
  }

  importance(): Record<string, number> {
    return Object.fromEntries(this.featureNames.map((f, j) => [f, Math.abs(this.coef[j]!)]));
  }

  save(): ModelState {
    return {
      code: 'cox',
      version: 1,
      featureNames: this.featureNames,
      params: this.params,
      state: {
        coef: encodeF64(this.coef),
        means: encodeF64(this.means),
        times: encodeF64(this.baseline.times),
        cumhaz: encodeF64(this.baseline.cumhaz),
      },
    };
  }

  static load(state: ModelState): CoxModel {
    assertModelState(state, 'cox', 1);
    const s = state.state as { coef: string; means: string; times: string; cumhaz: string };
    return new CoxModel(
      state.featureNames,
      decodeF64(s.coef),
      decodeF64(s.means),
      { times: decodeF64(s.times), cumhaz: decodeF64(s.cumhaz) },
      state.params,
    );
  }
}

/**
 * A singular information matrix, explained with the features that cause it (constant columns,
 * identical columns) and the event count, so the user knows which columns to drop. Runs only on
 * the failure path.
 */
function nameSingularCause(ds: Dataset, event: ArrayLike<number>, e: unknown): unknown {
  if (!(e instanceof Error) || !e.message.includes('information matrix is singular')) return e;
  const n = ds.nSamples;
  const constant: string[] = [];
  const identical: string[] = [];
  const seen = new Map<string, string>();
  for (let j = 0; j < ds.nFeatures; j++) {
    const col = ds.data.subarray(j * n, (j + 1) * n);
    const name = ds.featureNames[j]!;
    if (col.every(v => v === col[0])) {
      constant.push(name);
      continue;
    }
    const key = col.join(',');
    const first = seen.get(key);
    if (first !== undefined) identical.push(`"${name}" = "${first}"`);
    else seen.set(key, name);
  }
  let events = 0;
  for (let i = 0; i < n; i++) events += event[i]! ? 1 : 0;
  const causes: string[] = [];
  const list = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? ` … (${a.length})` : '');
  if (constant.length) causes.push(`constant: ${list(constant.map(f => `"${f}"`))}`);
  if (identical.length) causes.push(`identical: ${list(identical)}`);
  if (ds.nFeatures >= events) causes.push(`${ds.nFeatures} features for ${events} events`);
  return causes.length ? new Error(`${e.message} — ${causes.join('; ')}`) : e;
}

export const coxModel: ModelDef<CoxModelArgs> = {
  kind: 'model',
  code: 'cox',
  label: 'Cox proportional hazards',
  description:
    'Multivariable Cox regression (Efron ties, optional ridge); risk scores and Breslow survival curves.',
  reference: 'Cox (1972) JRSS-B 34:187; Breslow (1974); R survival::coxph / survfit',
  tasks: ['survival'],
  device: 'cpu',
  args: coxModelArgs,
  async fit(ds, args, ctx) {
    assertComplete(ds, 'cox');
    const { time, event } = survivalOutcome(ds.outcome);
    checkAbort(ctx.signal);
    ctx.progress(0, 'Newton–Raphson');
    const n = ds.nSamples;
    let fit: ReturnType<typeof coxFit>;
    try {
      fit = coxFit(ds.data, n, ds.nFeatures, time, event, {
        ties: args.ties,
        ridge: args.alpha * n,
        maxIter: args.max_iter,
        variance: false, // the model reports coefficients, risks and curves only
      });
    } catch (e) {
      throw nameSingularCause(ds, event, e);
    }
    const eta = new Float64Array(n);
    for (let j = 0; j < ds.nFeatures; j++) {
      const b = fit.coef[j]!;
      for (let i = 0; i < n; i++) eta[i] += b * (ds.data[j * n + i]! - fit.means[j]!);
    }
    ctx.progress(1, 'baseline hazard');
    return new CoxModel(ds.featureNames, fit.coef, fit.means, breslowBaseline(eta, time, event), {
      ...args,
      converged: fit.converged,
      iterations: fit.iterations,
      loglik: fit.loglik,
    });
  },
  load: state => CoxModel.load(state),
};
