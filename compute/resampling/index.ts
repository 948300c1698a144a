/** The splitters, in catalogue order, plus a helper that builds folds from a code and raw args. */
import { parseArgs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { type Fold, type SplitterDef } from '../core/method';
import { type Rng } from '../core/rng';
import { trainTestValidation, userSplitColumn } from './holdout';
import { kfold, leaveOneOut, repeated, stratifiedKfold } from './kfold';
import { survivalStratified } from './survival';

export { isHoldout, type HoldoutFold } from './strata';

export const allSplitters = [
  kfold,
  stratifiedKfold,
  repeated,
  leaveOneOut,
  trainTestValidation,
  survivalStratified,
  userSplitColumn,
] as const satisfies readonly SplitterDef<never>[];

/** A splitter choice as the CLI / job config gives it. */
export interface SplitSpec {
  code: string;
  args?: Record<string, unknown>;
}

export function makeFolds(ds: Dataset, spec: SplitSpec, rng: Rng): Fold[] {
  const def = (allSplitters as readonly SplitterDef<never>[]).find(s => s.code === spec.code);
  if (!def) {
    throw new Error(
      `unknown splitter "${spec.code}" (known: ${allSplitters.map(s => s.code).join(', ')})`,
    );
  }
  const args = parseArgs(def.args, spec.args, `${spec.code}.`) as never;
  return def.split(ds, args, rng);
}
