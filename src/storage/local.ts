/**
 * Local-filesystem storage under STORAGE_DIR (default DATA_DIR/objects). Presigned URLs point at
 * this server (`/objects/<token>`); the token is an HMAC-signed {method, key, expiry, maxBytes}.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import {
  assertValidKey,
  contentDisposition,
  ObjectNotFoundError,
  type ObjectStat,
  type ObjectStorage,
  type PresignGetOptions,
  type PresignOptions,
  type PresignPutOptions,
} from './storage.js';

interface TokenPayload {
  m: 'GET' | 'PUT';
  k: string;
  e: number;
  n?: number;
  /** GET: Content-Type to serve. */
  t?: string;
  /** GET: download file name (Content-Disposition). */
  d?: string;
}

export interface LocalStorageOptions {
  dir: string;
  /** Base URL of this server, e.g. http://localhost:4000 */
  publicUrl: string;
  /** HMAC key for presigned tokens. */
  secret: string;
  maxPresignSeconds: number;
}

export class LocalStorage implements ObjectStorage {
  readonly kind = 'local' as const;
  private readonly dir: string;
  private readonly key: Buffer;

  constructor(private readonly options: LocalStorageOptions) {
    this.dir = resolve(options.dir);
    this.key = createHmac('sha256', options.secret).update('omicselector/local-presign').digest();
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    const p = resolve(this.dir, key);
    if (!p.startsWith(this.dir + sep)) {
      throw new Error(`invalid object key "${key}"`);
    }
    return p;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async put(key: string, body: Readable | Buffer): Promise<ObjectStat> {
    return this.write(key, Buffer.isBuffer(body) ? Readable.from([body]) : body);
  }

  /** Writes to a temp file next to the target and renames, so readers never see partial data. */
  private async write(key: string, body: Readable, maxBytes?: number): Promise<ObjectStat> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.partial`;
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) {
          done(new PayloadTooLargeError(maxBytes));
          return;
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, target);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    const s = await stat(target);
    return { size: s.size, lastModified: s.mtime };
  }

  async get(key: string): Promise<Readable> {
    const p = this.pathOf(key);
    try {
      await stat(p);
    } catch {
      throw new ObjectNotFoundError(key);
    }
    return createReadStream(p);
  }

  async stat(key: string): Promise<ObjectStat | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size, lastModified: s.mtime } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return null;
      }
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    assertValidKey(prefix, true);
    const root = resolve(this.dir, prefix);
    if (!root.startsWith(this.dir + sep)) throw new Error(`invalid prefix "${prefix}"`);
    const walk = async function* (dir: string): AsyncIterable<string> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) yield* walk(p);
        else if (e.isFile() && !e.name.endsWith('.partial')) yield p;
      }
    };
    for await (const p of walk(root))
      yield p
        .slice(this.dir.length + 1)
        .split(sep)
        .join('/');
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidKey(prefix, true);
    if (!prefix.endsWith('/')) {
      throw new Error('deletePrefix needs a prefix ending in "/"');
    }
    const dir = resolve(this.dir, prefix);
    if (!dir.startsWith(this.dir + sep)) {
      throw new Error(`invalid prefix "${prefix}"`);
    }
    const count = await countFiles(dir);
    await rm(dir, { recursive: true, force: true });
    return count;
  }

  private sign(payload: TokenPayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const mac = createHmac('sha256', this.key).update(body).digest('base64url');
    return `${body}.${mac}`;
  }

  /** The payload of a valid, unexpired token for `method`, else undefined. */
  verify(token: string, method: 'GET' | 'PUT'): TokenPayload | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac) {
      return undefined;
    }
    // Compare the encoded MACs, not the decoded bytes: the 43rd base64url character carries two
    // unused bits, so decoding accepted four spellings of each signature (a URL with its last
    // character changed from B to A still verified). Fixed length first: timingSafeEqual throws
    // on a length mismatch.
    const expected = Buffer.from(createHmac('sha256', this.key).update(body).digest('base64url'));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return undefined;
    }
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as TokenPayload;
      if (payload.m !== method || payload.e < Date.now() / 1000) {
        return undefined;
      }
      assertValidKey(payload.k);
      return payload;
    } catch {
      return undefined;
    }
  }

  private expiry(options?: PresignOptions): number {
    const ttl = Math.min(
      options?.expiresInSeconds ?? this.options.maxPresignSeconds,
      this.options.maxPresignSeconds,
    );
    return Math.floor(Date.now() / 1000) + Math.max(1, ttl);
  }

  async presignGet(key: string, options?: PresignGetOptions): Promise<string> {
    assertValidKey(key);
    const payload: TokenPayload = { m: 'GET', k: key, e: this.expiry(options) };
    if (options?.contentType) payload.t = options.contentType;
    if (options?.downloadName) payload.d = options.downloadName;
    return `${this.options.publicUrl}/objects/${this.sign(payload)}`;
  }

  async presignPut(key: string, options?: PresignPutOptions): Promise<string> {
    assertValidKey(key);
    const payload: TokenPayload = { m: 'PUT', k: key, e: this.expiry(options) };
    if (options?.maxBytes !== undefined) {
      payload.n = options.maxBytes;
    }
    return `${this.options.publicUrl}/objects/${this.sign(payload)}`;
  }

  async ping(): Promise<void> {
    const probe = join(this.dir, '.ping');
    await writeFile(probe, String(Date.now()));
    await unlink(probe);
  }

  /** Express routes serving presigned GET/PUT URLs: mount at the app root. */
  router(): Router {
    const router = Router();
    router.get('/objects/:token', async (req: Request, res: Response) => {
      const payload = this.verify(String(req.params.token), 'GET');
      if (!payload) {
        res.status(403).type('text/plain').send('invalid or expired link');
        return;
      }
      const s = await this.stat(payload.k).catch(() => null);
      if (!s) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      res.status(200);
      // Both come from the signed token, so a link can't be altered to serve, e.g., text/html.
      res.setHeader('content-type', payload.t ?? 'application/octet-stream');
      res.setHeader('x-content-type-options', 'nosniff');
      if (payload.d) res.setHeader('content-disposition', contentDisposition(payload.d));
      res.setHeader('content-length', String(s.size));
      res.setHeader('cache-control', 'private, no-store');
      await pipeline(createReadStream(this.pathOf(payload.k)), res).catch(() => undefined);
    });
    router.put('/objects/:token', async (req: Request, res: Response) => {
      const payload = this.verify(String(req.params.token), 'PUT');
      if (!payload) {
        res.status(403).type('text/plain').send('invalid or expired link');
        return;
      }
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (payload.n !== undefined && Number.isFinite(declared) && declared > payload.n) {
        res.status(413).type('text/plain').send(`upload exceeds ${payload.n} bytes`);
        req.resume();
        return;
      }
      try {
        const s = await this.write(payload.k, req, payload.n);
        res.status(200).json({ size: s.size });
      } catch (err) {
        if (err instanceof PayloadTooLargeError) {
          res.status(413).type('text/plain').send(err.message);
        } else {
          res.status(400).type('text/plain').send('upload failed');
        }
      }
    });
    return router;
  }
}

class PayloadTooLargeError extends Error {
  constructor(limit: number) {
    super(`upload exceeds ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

async function countFiles(dir: string): Promise<number> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter(e => e.isFile()).length;
  } catch {
    return 0;
  }
}
