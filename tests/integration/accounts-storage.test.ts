/**
 * Object storage (platform foundation, owned with accounts): the same contract on the local
 * filesystem backend and on the S3 backend (s3rver), including presigned URLs, their expiry and
 * tampering, and key validation.
 */
import { Readable } from 'node:stream';
import { ObjectNotFoundError, objectKey, S3Storage, type ObjectStorage } from '../../src/storage';
import { startTestApp, type TestApp } from '../helpers/app';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) {
    chunks.push(Buffer.from(c as Buffer));
  }
  return Buffer.concat(chunks).toString();
}

describe.each(['local', 's3'] as const)('%s storage', kind => {
  let t: TestApp;
  let storage: ObjectStorage;

  beforeAll(async () => {
    t = await startTestApp({ storage: kind });
    storage = t.app.services.storage;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is the configured backend and answers ping', async () => {
    expect(storage.kind).toBe(kind);
    await expect(storage.ping()).resolves.toBeUndefined();
  });

  it('puts, stats, gets and deletes objects (buffers and streams)', async () => {
    const a = objectKey('datasets', '0b4c7a0e-1111-4c8e-9a55-000000000001', 'original.csv');
    const b = objectKey('datasets', '0b4c7a0e-1111-4c8e-9a55-000000000001', 'matrix.bin');
    expect((await storage.put(a, Buffer.from('gene,s1\nx,1\n'))).size).toBe(12);
    await storage.put(b, Readable.from([Buffer.from('abc'), Buffer.from('def')]));
    expect((await storage.stat(b))?.size).toBe(6);
    expect(await readAll(await storage.get(a))).toBe('gene,s1\nx,1\n');

    expect(await storage.stat('datasets/missing/x')).toBeNull();
    await expect(storage.get('datasets/missing/x')).rejects.toBeInstanceOf(ObjectNotFoundError);

    await storage.delete(a);
    expect(await storage.stat(a)).toBeNull();
    await storage.delete(a); // deleting twice is fine
    expect(await storage.deletePrefix('datasets/0b4c7a0e-1111-4c8e-9a55-000000000001/')).toBe(1);
    expect(await storage.stat(b)).toBeNull();
  });

  it('never accepts keys that could escape their prefix', async () => {
    for (const bad of ['../x', 'a/../../b', '/abs', '', 'a//b', 'a/./b', 'datasets/x y']) {
      await expect(storage.put(bad, Buffer.from('x'))).rejects.toThrow(/invalid object key/);
    }
    expect(() => objectKey('datasets', '..', 'x')).toThrow();
  });

  it('serves presigned GET and PUT URLs; tampered URLs are refused', async () => {
    const key = objectKey('uploads', 'presign-test', 'data.tsv');
    const putUrl = await storage.presignPut(key, { expiresInSeconds: 60 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'a\tb\n1\t2\n' });
    expect(put.status).toBe(200);
    expect((await storage.stat(key))?.size).toBe(8);

    const getUrl = await storage.presignGet(key);
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('a\tb\n1\t2\n');

    // Local: the signature's last character changed within its two unused bits too (B ↔ A
    // decode to the same bytes), which used to pass 3 times in 64.
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastBitsOnly = getUrl.replace(/.$/, c => B64URL[B64URL.indexOf(c) + 1]!);
    const tampered =
      kind === 'local'
        ? getUrl.replace(/.$/, c => (c === 'A' ? 'Q' : 'A'))
        : getUrl.replace(
            /X-Amz-Signature=([0-9a-f])/,
            (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
          );
    // s3rver does not verify query signatures (MinIO and S3 do), so only the local backend is checked.
    if (kind === 'local') {
      expect((await fetch(tampered)).status).toBe(403);
      expect((await fetch(lastBitsOnly)).status).toBe(403);
    }
  });

  it('caps presigned URL lifetime at PRESIGNED_URL_TTL and refuses expired URLs', async () => {
    const key = objectKey('uploads', 'expiry-test', 'x.bin');
    await storage.put(key, Buffer.from('x'));
    const long = await storage.presignGet(key, { expiresInSeconds: 7 * 86400 });
    if (kind === 's3') {
      expect(new URL(long).searchParams.get('X-Amz-Expires')).toBe(
        String(t.config.presignTtlSeconds),
      );
    } else {
      const token = new URL(long).pathname.split('/').pop()!;
      const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as {
        e: number;
      };
      expect(payload.e).toBeLessThanOrEqual(
        Math.floor(Date.now() / 1000) + t.config.presignTtlSeconds,
      );
    }
    const short = await storage.presignGet(key, { expiresInSeconds: 1 });
    await new Promise(r => setTimeout(r, 2100));
    expect((await fetch(short)).status).toBe(403);
  });
});

describe('local presigned PUT size limit', () => {
  it('refuses uploads beyond maxBytes with 413 and leaves no object', async () => {
    const t = await startTestApp();
    try {
      const storage = t.app.services.storage;
      const key = objectKey('uploads', 'limit-test', 'big.bin');
      const url = await storage.presignPut(key, { maxBytes: 10 });
      const declared = await fetch(url, { method: 'PUT', body: 'x'.repeat(11) });
      expect(declared.status).toBe(413);
      // Chunked body without Content-Length: cut off while streaming.
      const body = Readable.from([Buffer.alloc(8), Buffer.alloc(8)]);
      const streamed = await fetch(url, {
        method: 'PUT',
        body: Readable.toWeb(body) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(await storage.stat(key)).toBeNull();
      // A GET token cannot be used to PUT.
      const getUrl = await storage.presignGet(key);
      expect((await fetch(getUrl, { method: 'PUT', body: 'x' })).status).toBe(403);
    } finally {
      await t.close();
    }
  });
});

describe('S3 streaming upload', () => {
  it('uploads streams of unknown length in bounded parts (multipart) and reassembles them', async () => {
    const t = await startTestApp({ storage: 's3' });
    try {
      const cfg = t.config.storage;
      if (cfg.kind !== 's3') throw new Error('expected s3 config');
      const partSize = 5 * 1024 * 1024;
      const storage = new S3Storage(cfg, 60, partSize);
      const MiB = 1024 * 1024;
      const chunks = Array.from({ length: 11 }, (_, i) => Buffer.alloc(MiB, i));
      const key = objectKey('uploads', 'multipart-test', 'big.bin');
      const stat = await storage.put(key, Readable.from(chunks));
      expect(stat.size).toBe(11 * MiB);
      let offset = 0;
      let mismatches = 0;
      for await (const c of await storage.get(key)) {
        const b = c as Buffer;
        for (let j = 0; j < b.length; j += 65536) {
          if (b[j] !== Math.floor((offset + j) / MiB)) mismatches++;
        }
        offset += b.length;
      }
      expect(offset).toBe(11 * MiB);
      expect(mismatches).toBe(0);

      // A stream that fails after a part was sent leaves no object behind.
      let sent = 0;
      const broken = new Readable({
        read() {
          if (sent++ < 6) {
            this.push(Buffer.alloc(MiB));
          } else {
            this.destroy(new Error('client went away'));
          }
        },
      });
      const brokenKey = objectKey('uploads', 'multipart-test', 'broken.bin');
      await expect(storage.put(brokenKey, broken)).rejects.toThrow(/client went away/);
      expect(await storage.stat(brokenKey)).toBeNull();
    } finally {
      await t.close();
    }
  });
});
