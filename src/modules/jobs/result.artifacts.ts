/**
 * A result's artifacts as objects: every file under the run's folder
 * (`jobs/<jobId>/attempt-<n>/`) plus the keys the result lists, each stat-ed in storage and given a
 * short-lived presigned GET URL. Kind and content type come from the key alone (extension, folder
 * and file name), so files added by any runner or report step show up without code changes here.
 */
import { posix } from 'node:path';
import { type ObjectStorage } from '../../storage/index.js';

/** Plain enum (no GraphQL here); result.types.ts registers it as the `ArtifactKind` enum. */
export enum ArtifactKind {
  MODEL = 'MODEL',
  EXPORT = 'EXPORT',
  PLOT = 'PLOT',
  DATA = 'DATA',
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  svg: 'image/svg+xml',
  png: 'image/png',
  pdf: 'application/pdf',
  gz: 'application/gzip',
  zip: 'application/zip',
};

const PLOT_EXT = new Set(['svg', 'png', 'pdf', 'jpg', 'jpeg']);
const EXPORT_EXT = new Set(['csv', 'tsv', 'xlsx', 'json', 'txt', 'md', 'html']);

function extOf(key: string): string {
  const base = posix.basename(key);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[extOf(key)] ?? 'application/octet-stream';
}

/**
 * MODEL: a key the result names as its model, `model.json` / `model.bin` (optionally `model-v2.json`)
 * at the run's top level, or anything under `models/`. Files under `reports/` or `exports/` are
 * EXPORT (PLOT when images) whatever their names (`reports/model_features.csv` is a table).
 * PLOT: images or a `plots/` folder; EXPORT: tables and documents; DATA: the rest
 * (e.g. `preprocessed.bin`).
 */
export function artifactKind(
  key: string,
  modelKeys: ReadonlySet<string> = new Set(),
): ArtifactKind {
  const parts = key.split('/');
  const base = (parts.at(-1) ?? '').toLowerCase();
  const dirs = parts.slice(0, -1).map(p => p.toLowerCase());
  const ext = extOf(key);
  if (modelKeys.has(key)) return ArtifactKind.MODEL;
  if (dirs.includes('reports') || dirs.includes('exports')) {
    return PLOT_EXT.has(ext) ? ArtifactKind.PLOT : ArtifactKind.EXPORT;
  }
  if (PLOT_EXT.has(ext) || dirs.includes('plots')) return ArtifactKind.PLOT;
  if (dirs.includes('models') || /^model(-v?\d+)?\.(json|bin)$/.test(base)) {
    return ArtifactKind.MODEL;
  }
  if (EXPORT_EXT.has(ext)) return ArtifactKind.EXPORT;
  return ArtifactKind.DATA;
}

export function runPrefix(jobId: string, attempt: number): string {
  return `jobs/${jobId}/attempt-${attempt}/`;
}

/** Keys a result document names as models (`modelArtifact`, or `model` when it is a key). */
export function modelKeysOf(data: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  if (typeof data.modelArtifact === 'string') out.add(data.modelArtifact);
  return out;
}

export interface ArtifactView {
  key: string;
  name: string;
  kind: ArtifactKind;
  contentType: string;
  bytes: number;
  createdAt: Date;
  downloadUrl: string;
  expiresAt: Date;
}

const KIND_ORDER = [ArtifactKind.MODEL, ArtifactKind.EXPORT, ArtifactKind.PLOT, ArtifactKind.DATA];

/** Every stored artifact of the run (missing objects are left out), MODEL first, then by name. */
export async function listArtifacts(
  storage: ObjectStorage,
  run: { jobId: string; attempt: number; keys: readonly string[]; data: Record<string, unknown> },
  ttlSeconds: number,
  filter: { kind?: ArtifactKind | null; name?: string | null } = {},
): Promise<ArtifactView[]> {
  const prefix = runPrefix(run.jobId, run.attempt);
  const keys = new Set(run.keys);
  for await (const k of storage.list(prefix)) keys.add(k);
  const models = modelKeysOf(run.data);
  const wanted = [...keys]
    .map(key => ({
      key,
      name: key.startsWith(prefix) ? key.slice(prefix.length) : posix.basename(key),
      kind: artifactKind(key, models),
    }))
    .filter(
      a => (!filter.kind || a.kind === filter.kind) && (!filter.name || a.name === filter.name),
    );
  // Fallback only: the expiry is read back from each signed URL (whole seconds, as signed).
  const fallback = new Date((Math.floor(Date.now() / 1000) + Math.max(1, ttlSeconds)) * 1000);
  const out = await Promise.all(
    wanted.map(async a => {
      const stat = await storage.stat(a.key);
      if (!stat) return null;
      const url = await storage.presignGet(a.key, {
        expiresInSeconds: ttlSeconds,
        contentType: contentTypeOf(a.key),
        downloadName: posix.basename(a.name),
      });
      return {
        ...a,
        contentType: contentTypeOf(a.key),
        bytes: stat.size,
        // A Date of this realm (fs.stat's may come from another one under jest, failing the scalar).
        createdAt: new Date(new Date(stat.lastModified).getTime()),
        downloadUrl: url,
        expiresAt: expiryOf(url) ?? fallback,
      };
    }),
  );
  return out
    .filter((a): a is ArtifactView => a !== null)
    .sort(
      (a, b) =>
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name),
    );
}

/**
 * The expiry a presigned URL carries: S3 `X-Amz-Date` + `X-Amz-Expires`, or the local backend's
 * signed token (`/objects/<base64url {e}>.<mac>`). Null when it cannot be read.
 */
export function expiryOf(url: string): Date | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const amzDate = u.searchParams.get('X-Amz-Date');
  const amzExpires = Number(u.searchParams.get('X-Amz-Expires'));
  if (amzDate && Number.isFinite(amzExpires)) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!m) return null;
    const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
    return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!) + amzExpires * 1000);
  }
  const token = u.pathname.split('/').at(-1) ?? '';
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
      e?: unknown;
    };
    return typeof payload.e === 'number' ? new Date(payload.e * 1000) : null;
  } catch {
    return null;
  }
}

/** Read a JSON object from storage (the saved model), refusing files beyond `maxBytes`. */
export async function readJsonObject(
  storage: ObjectStorage,
  key: string,
  maxBytes: number,
): Promise<Record<string, unknown> | null> {
  const stat = await storage.stat(key);
  if (!stat || stat.size > maxBytes) return null;
  const chunks: Buffer[] = [];
  for await (const c of await storage.get(key)) {
    chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  }
  const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : null;
}
