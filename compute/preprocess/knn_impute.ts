/**
 * k-nearest-neighbour imputation, as sklearn.impute.KNNImputer (weights='uniform',
 * metric='nan_euclidean'): the distance between two samples uses the features both observe,
 * d² = (p / #shared) · Σ_shared (x − y)². A missing value of feature j is the mean of feature j over
 * the k nearest training samples that observe j (fewer when fewer exist; donors with no shared
 * feature rank last). When no donor shares any feature, the training mean of j is used.
 * Training rows are the donor pool, so test rows never inform each other. Ties between equally
 * distant donors go to the earlier training row (scikit-learn's argpartition leaves them open).
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { columnMoments } from '../stats/columns';
import { ALL_TASKS, featureIndex } from './common';

export interface KnnImputeArgs {
  n_neighbors: number;
}

export const knnImpute: PreprocessorDef<KnnImputeArgs> = {
  kind: 'preprocessor',
  code: 'knn_impute',
  label: 'Impute (k nearest neighbours)',
  description:
    'Fills each missing value with the mean of that feature over the k nearest training samples.',
  reference: 'sklearn.impute.KNNImputer; Troyanskaya et al. (2001) Bioinformatics 17:520–525',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    n_neighbors: {
      type: 'integer',
      default: 5,
      min: 1,
      doc: 'Number of neighbouring training samples averaged (k).',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const nt = train.nSamples;
    const p = train.nFeatures;
    const fitData = Float64Array.from(train.data);
    const colMean = columnMoments(fitData, nt, p).mean;
    const names = train.featureNames;
    const k = a.n_neighbors;
    return {
      transform: ds => {
        const idx = featureIndex(names, ds, 'knn_impute');
        const n = ds.nSamples;
        const data = Float64Array.from(ds.data);
        const row = new Float64Array(p); // the receiver row in training feature order
        const dist = new Float64Array(nt);
        const donors: number[] = [];
        for (let i = 0; i < n; i++) {
          let anyMissing = false;
          row.fill(NaN);
          for (let j = 0; j < ds.nFeatures; j++) {
            const v = ds.data[j * n + i]!;
            row[idx[j]!] = v;
            if (v !== v) anyMissing = true;
          }
          if (!anyMissing) continue;
          for (let t = 0; t < nt; t++) {
            let ss = 0;
            let shared = 0;
            for (let f = 0; f < p; f++) {
              const x = row[f]!;
              const y = fitData[f * nt + t]!;
              if (x === x && y === y) {
                const d = x - y;
                ss += d * d;
                shared++;
              }
            }
            dist[t] = shared > 0 ? Math.sqrt((p / shared) * ss) : NaN;
          }
          for (let j = 0; j < ds.nFeatures; j++) {
            if (ds.data[j * n + i] === ds.data[j * n + i]) continue;
            const f = idx[j]!;
            donors.length = 0;
            let finite = 0;
            for (let t = 0; t < nt; t++) {
              if (fitData[f * nt + t] === fitData[f * nt + t]) {
                donors.push(t);
                if (dist[t] === dist[t]) finite++;
              }
            }
            if (finite === 0) {
              data[j * n + i] = colMean[f]!;
              continue;
            }
            donors.sort((u, v) => {
              const du = dist[u]!;
              const dv = dist[v]!;
              if (du !== du) return dv !== dv ? u - v : 1;
              if (dv !== dv) return -1;
              return du - dv || u - v;
            });
            const use = Math.min(k, donors.length);
            let s = 0;
            for (let q = 0; q < use; q++) s += fitData[f * nt + donors[q]!]!;
            data[j * n + i] = s / use;
          }
        }
        return { ...ds, data };
      },
    };
  },
};
