/**
 * Raw upload bytes → validated UTF-8 text chunks, streaming.
 *
 * Order matters: the SHA-256 and byte count are taken on the bytes exactly as uploaded (before
 * gunzip), so they match what the client sent and what storage holds. Gzip is recognised by its
 * magic bytes (1f 8b), never by file name or Content-Type, which clients get wrong. The decoded
 * side is checked for what makes a file "not text": NUL bytes (binary files, UTF-16 without BOM),
 * a UTF-16/32 byte-order mark, well-known binary signatures, and invalid UTF-8 (fatal decoder).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TabularParseError } from './errors';

export interface TextStats {
  /** Bytes as uploaded (compressed if gzip). */
  rawBytes: number;
  /** Bytes after decompression. */
  textBytes: number;
  gzip: boolean;
  /** Hex SHA-256 of the raw bytes; set once the source has been read to its end. */
  sha256: string | null;
}

export interface TextLimits {
  /** Cap on decompressed bytes: bounds the work a gzip bomb (or a file of blank lines) causes. */
  maxTextBytes: number;
}

const CHUNK = 1 << 20;

/** Accepts a Node stream, any async iterable of bytes, or a whole buffer (sliced so flow stays chunked). */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

async function* chunksOf(source: ByteSource): AsyncGenerator<Buffer> {
  if (source instanceof Uint8Array) {
    for (let off = 0; off < source.length; off += CHUNK) {
      const end = Math.min(off + CHUNK, source.length);
      yield Buffer.from(source.buffer, source.byteOffset + off, end - off);
    }
    return;
  }
  for await (const c of source as AsyncIterable<Uint8Array>) {
    if (typeof c === 'string') throw new TypeError('byte source yielded a string; pass bytes');
    yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
}

async function* hashed(source: ByteSource, stats: TextStats): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const c of chunksOf(source)) {
    hash.update(c);
    stats.rawBytes += c.length;
    yield c;
  }
  stats.sha256 = hash.digest('hex');
}

/** Counts line breaks (\n, \r\n and lone \r, so CR-only files count right) across chunks. */
class LineCounter {
  lines = 0;
  private pendingCR = false;

  add(buf: Buffer, end = buf.length): void {
    let i = 0;
    if (this.pendingCR && end > 0 && buf[0] === 0x0a) i = 1; // \r\n split across chunks: one break
    this.pendingCR = false;
    // indexOf is native memchr: far cheaper than a JS loop over every byte.
    for (let k = buf.indexOf(0x0a, i); k !== -1 && k < end; k = buf.indexOf(0x0a, k + 1)) {
      this.lines++;
    }
    for (let k = buf.indexOf(0x0d, i); k !== -1 && k < end; k = buf.indexOf(0x0d, k + 1)) {
      if (k + 1 < end) {
        if (buf[k + 1] !== 0x0a) this.lines++;
      } else if (end === buf.length) {
        this.pendingCR = true;
        this.lines++; // count now; a following \n at the next chunk start is skipped above
      } else {
        this.lines++;
      }
    }
  }

  /** 1-based line number of a position `offset` bytes into `buf` (buf not yet added). */
  lineAt(buf: Buffer, offset: number): number {
    const probe = new LineCounter();
    probe.pendingCR = this.pendingCR;
    probe.add(buf, offset);
    return this.lines + probe.lines + 1;
  }
}

const SIGNATURES: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (an Excel .xlsx workbook?): export it as CSV or TSV'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Office document (.xls?): export it as CSV or TSV'],
  [[0x42, 0x5a, 0x68], 'a bzip2 archive: only gzip compression is supported'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'an xz archive: only gzip compression is supported'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd archive: only gzip compression is supported'],
];

function startsWith(buf: Buffer, sig: number[]): boolean {
  return buf.length >= sig.length && sig.every((b, i) => buf[i] === b);
}

function checkStart(head: Buffer): void {
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) {
    throw new TabularParseError(
      'NOT_TEXT',
      1,
      null,
      'the file is UTF-16 (or UTF-32) encoded; save it as UTF-8 CSV/TSV',
    );
  }
  for (const [sig, what] of SIGNATURES) {
    if (startsWith(head, sig)) {
      throw new TabularParseError('NOT_TEXT', 1, null, `the file is ${what}, not CSV/TSV text`);
    }
  }
}

/** Reads until at least `n` bytes are buffered (or the source ends); returns them and the rest. */
async function peek(
  it: AsyncIterator<Buffer>,
  n: number,
): Promise<{ head: Buffer[]; headBytes: Buffer }> {
  const head: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    len += r.value.length;
  }
  return { head, headBytes: Buffer.concat(head).subarray(0, n) };
}

async function* replay(head: Buffer[], it: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    for (const c of head) yield c;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  } finally {
    await it.return?.();
  }
}

async function* gunzip(raw: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const input = Readable.from(raw, { objectMode: false });
  const gz = createGunzip();
  input.on('error', e => gz.destroy(e));
  input.pipe(gz);
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (e) {
    if (e instanceof TabularParseError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
      throw new TabularParseError(
        'BAD_GZIP',
        null,
        null,
        `the gzip stream is corrupt or truncated (${err.message})`,
      );
    }
    throw e;
  } finally {
    input.destroy();
    gz.destroy();
  }
}

/**
 * Yields decoded text chunks. Throws TabularParseError for non-text input. `stats` is filled in as
 * the stream is read; `stats.sha256` is final once the generator has completed.
 */
export async function* decodeText(
  source: ByteSource,
  limits: TextLimits,
  stats: TextStats,
): AsyncGenerator<string> {
  const rawIt = hashed(source, stats)[Symbol.asyncIterator]();
  const { head, headBytes } = await peek(rawIt, 2);
  stats.gzip = headBytes.length >= 2 && headBytes[0] === 0x1f && headBytes[1] === 0x8b;
  const raw = replay(head, rawIt);
  const bytes = stats.gzip ? gunzip(raw) : raw;

  // fatal: invalid UTF-8 is an error, not silently replaced by U+FFFD. The default ignoreBOM=false
  // makes the decoder strip a leading UTF-8 BOM (Excel writes one).
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const lines = new LineCounter();
  let first = true;
  try {
    for await (const buf of bytes) {
      if (first && buf.length > 0) {
        checkStart(buf);
        first = false;
      }
      stats.textBytes += buf.length;
      if (stats.textBytes > limits.maxTextBytes) {
        throw new TabularParseError(
          'TOO_LARGE',
          lines.lines + 1,
          null,
          `the ${stats.gzip ? 'decompressed ' : ''}text is larger than the limit of ${limits.maxTextBytes} bytes`,
        );
      }
      const nul = buf.indexOf(0);
      if (nul !== -1) {
        throw new TabularParseError(
          'NOT_TEXT',
          lines.lineAt(buf, nul),
          null,
          `the file contains a NUL byte (at byte ${stats.textBytes - buf.length + nul}): it is binary or UTF-16, not UTF-8 CSV/TSV text`,
        );
      }
      let text: string;
      try {
        text = decoder.decode(buf, { stream: true });
      } catch {
        // Locate the first bad sequence for the message: re-decode leniently and find U+FFFD.
        const lenient = new TextDecoder('utf-8').decode(buf);
        const bad = lenient.indexOf('\uFFFD');
        const offset = bad === -1 ? 0 : Buffer.byteLength(lenient.slice(0, bad));
        throw new TabularParseError(
          'NOT_TEXT',
          lines.lineAt(buf, offset),
          null,
          'invalid UTF-8 byte sequence: the file is not UTF-8 text (save it as UTF-8 CSV/TSV)',
        );
      }
      lines.add(buf);
      if (text.length > 0) yield text;
    }
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      throw new TabularParseError(
        'NOT_TEXT',
        lines.lines + 1,
        null,
        'the file ends inside a UTF-8 character: it is truncated or not UTF-8 text',
      );
    }
    if (tail.length > 0) yield tail;
  } finally {
    await bytes.return(undefined);
  }
}
