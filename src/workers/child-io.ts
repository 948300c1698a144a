/**
 * Platform access from inside a compute child: the job's dataset (through the datasets module's
 * owner-checked loader), other jobs of the same owner, and artifacts in object storage.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../config.js';
import { residentDataset } from '../../compute/kernels/resident.js';
import { loadDatasetMatrix } from '../modules/datasets/dataset.matrix.js';
import { getJob, getResult } from '../modules/jobs/job.store.js';
import { initOrm } from '../orm.js';
import { createStorage, type ObjectStorage } from '../storage/index.js';
import { type RunSpec } from './protocol.js';
import { type RunnerIo } from './runners/context.js';

export interface ChildIo {
  io: RunnerIo;
  close(): Promise<void>;
}

async function readAll(storage: ObjectStorage, key: string): Promise<Buffer> {
  const stream = await storage.get(key);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export async function openChildIo(spec: RunSpec): Promise<ChildIo> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set for the compute process');
  let orm: MikroORM | null = null;
  const ormFor = async () =>
    (orm ??= await initOrm({ clientUrl: config.databaseUrl!, poolMax: 2 }));
  const storage = createStorage(config);
  const io: RunnerIo = {
    async loadDataset(datasetId) {
      const o = await ormFor();
      const ds = await loadDatasetMatrix({ em: o.em.fork(), storage }, datasetId, spec.ownerId);
      // Into WebAssembly memory once, here in the compute process, so the SIMD kernels read it in
      // place (compute/kernels/resident.ts). Not in readDatasetMatrix: the API server's preview
      // reads a few cells and must not copy a whole matrix on its event loop.
      return residentDataset(ds);
    },
    async loadJob(jobId) {
      const knex = (await ormFor()).em.getKnex();
      const job = await getJob(knex, jobId);
      if (!job || job.ownerId !== spec.ownerId) return null;
      return { job, result: await getResult(knex, jobId) };
    },
    async putArtifact(key, body, contentType) {
      await storage.put(key, body, { contentType });
    },
    getArtifact: key => readAll(storage, key),
  };
  return {
    io,
    close: async () => {
      await (orm as MikroORM | null)?.close(true);
    },
  };
}
