/**
 * The compact matrix file a worker loads: parse the CSV once at upload, then every job reads this.
 *
 * Layout (all integers little-endian):
 *   0   8 bytes  magic "OSMATRIX"
 *   8   u32      format version (1)
 *   12  u32      header length H in bytes
 *   16  H bytes  UTF-8 JSON header: shape, names, ids, batch, outcome kind/classes, block table
 *   …   padding to a multiple of 8
 *   blocks       raw little-endian arrays, each starting at a multiple of 8:
 *                "data" Float64 column-major nSamples × nFeatures (NaN = missing), then the
 *                outcome arrays ("labels" Int32, "values"/"time" Float64, "event" Uint8)
 *
 * Why: JSON for a 500 × 20,000 matrix would be ~200 MB of text and seconds to parse; here the
 * numbers are one memcpy away, and with 8-byte alignment on a little-endian host `decodeDataset`
 * returns a Float64Array *view* of the buffer (zero copy). Names and ids stay in JSON because they
 * are strings anyway and JSON.parse is the fastest string decoder available.
 */
import { type Dataset, type Outcome, makeDataset } from '../core/dataset';

const MAGIC = Buffer.from('OSMATRIX', 'latin1');
export const MATRIX_FORMAT_VERSION = 1;
const PREFIX = 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type BlockName = 'data' | 'labels' | 'values' | 'time' | 'event';
type DType = 'f64' | 'i32' | 'u8';

interface Block {
  name: BlockName;
  dtype: DType;
  /** Absolute byte offset in the file (multiple of 8). */
  offset: number;
  /** Element count. */
  length: number;
}

interface Header {
  nSamples: number;
  nFeatures: number;
  featureNames: string[];
  sampleIds: string[];
  batch?: string[];
  outcome: { kind: Outcome['kind']; classes?: string[] };
  blocks: Block[];
}

export class MatrixFormatError extends Error {
  override readonly name = 'MatrixFormatError';
}

const BYTES: Record<DType, number> = { f64: 8, i32: 4, u8: 1 };
const align8 = (n: number): number => (n + 7) & ~7;

function outcomeArrays(o: Outcome): { name: BlockName; dtype: DType; array: ArrayBufferView }[] {
  switch (o.kind) {
    case 'none':
      return [];
    case 'binary':
    case 'multiclass':
      return [{ name: 'labels', dtype: 'i32', array: o.labels }];
    case 'continuous':
      return [{ name: 'values', dtype: 'f64', array: o.values }];
    case 'survival':
      return [
        { name: 'time', dtype: 'f64', array: o.time },
        { name: 'event', dtype: 'u8', array: o.event },
      ];
  }
}

/** Writes typed-array elements little-endian into `out` at `offset`. */
function writeLE(out: Buffer, offset: number, dtype: DType, array: ArrayBufferView): void {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (LITTLE_ENDIAN || dtype === 'u8') {
    out.set(bytes, offset);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset);
  const src = array as Float64Array | Int32Array;
  for (let i = 0; i < src.length; i++) {
    if (dtype === 'f64') view.setFloat64(offset + i * 8, src[i]!, true);
    else view.setInt32(offset + i * 4, src[i]!, true);
  }
}

export function encodeDataset(ds: Dataset): Buffer {
  const arrays = [
    { name: 'data' as BlockName, dtype: 'f64' as DType, array: ds.data as ArrayBufferView },
    ...outcomeArrays(ds.outcome),
  ];
  const outcome: Header['outcome'] = { kind: ds.outcome.kind };
  if (ds.outcome.kind === 'binary' || ds.outcome.kind === 'multiclass') {
    outcome.classes = [...ds.outcome.classes];
  }
  // Offsets depend on the header length, which depends on the offsets' digits: lay out with
  // placeholder offsets, then fix the header size and recompute until it is stable (≤ 2 rounds).
  const header: Header = {
    nSamples: ds.nSamples,
    nFeatures: ds.nFeatures,
    featureNames: ds.featureNames,
    sampleIds: ds.sampleIds,
    ...(ds.batch ? { batch: ds.batch } : {}),
    outcome,
    blocks: arrays.map(a => ({
      name: a.name,
      dtype: a.dtype,
      offset: 0,
      length: a.array.byteLength / BYTES[a.dtype],
    })),
  };
  let json = Buffer.from(JSON.stringify(header));
  for (let round = 0; round < 4; round++) {
    let off = align8(PREFIX + json.length);
    for (const b of header.blocks) {
      b.offset = off;
      off = align8(off + b.length * BYTES[b.dtype]);
    }
    const next = Buffer.from(JSON.stringify(header));
    if (next.length === json.length) {
      json = next;
      break;
    }
    json = next;
  }
  const last = header.blocks[header.blocks.length - 1]!;
  const total = align8(last.offset + last.length * BYTES[last.dtype]);
  // allocUnsafeSlow: an unpooled buffer of its own, so byteOffset 0 and the blocks stay aligned.
  const out = Buffer.allocUnsafeSlow(total);
  out.fill(0, 0, header.blocks[0]!.offset);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(MATRIX_FORMAT_VERSION, 8);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, PREFIX);
  header.blocks.forEach((b, i) => {
    writeLE(out, b.offset, b.dtype, arrays[i]!.array);
    const end = b.offset + b.length * BYTES[b.dtype];
    out.fill(0, end, i + 1 < header.blocks.length ? header.blocks[i + 1]!.offset : total);
  });
  return out;
}

function readBlock(buf: Uint8Array, b: Block): Float64Array | Int32Array | Uint8Array {
  const size = BYTES[b.dtype];
  if (
    !Number.isSafeInteger(b.offset) ||
    !Number.isSafeInteger(b.length) ||
    b.offset < 0 ||
    b.length < 0
  ) {
    throw new MatrixFormatError(`block "${b.name}" has an invalid offset or length`);
  }
  if (b.offset + b.length * size > buf.byteLength) {
    throw new MatrixFormatError(`the file is truncated: block "${b.name}" runs past its end`);
  }
  const abs = buf.byteOffset + b.offset;
  if (b.dtype === 'u8') return new Uint8Array(buf.buffer, abs, b.length);
  const Ctor = b.dtype === 'f64' ? Float64Array : Int32Array;
  // Zero copy. (A Buffer's backing store is an ArrayBuffer; SharedArrayBuffer works the same way.)
  if (LITTLE_ENDIAN && abs % size === 0) return new Ctor(buf.buffer as ArrayBuffer, abs, b.length);
  // Unaligned (e.g. a small pooled Buffer) or big-endian host: one copy.
  const out = new Ctor(b.length);
  const view = new DataView(buf.buffer, abs, b.length * size);
  for (let i = 0; i < b.length; i++) {
    out[i] = b.dtype === 'f64' ? view.getFloat64(i * 8, true) : view.getInt32(i * 4, true);
  }
  return out;
}

/**
 * Decodes a matrix file. The returned arrays are views into `buf` when possible: keep `buf` alive
 * and don't mutate it while the dataset is in use.
 */
export function decodeDataset(buf: Uint8Array): Dataset {
  if (buf.byteLength < PREFIX || !MAGIC.equals(Buffer.from(buf.buffer, buf.byteOffset, 8))) {
    throw new MatrixFormatError('not an OmicSelector matrix file (bad magic bytes)');
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== MATRIX_FORMAT_VERSION) {
    throw new MatrixFormatError(
      `unsupported matrix format version ${version} (this build reads version ${MATRIX_FORMAT_VERSION})`,
    );
  }
  const hlen = dv.getUint32(12, true);
  if (PREFIX + hlen > buf.byteLength)
    throw new MatrixFormatError('the file is truncated inside its header');
  let header: Header;
  try {
    header = JSON.parse(
      Buffer.from(buf.buffer, buf.byteOffset + PREFIX, hlen).toString('utf8'),
    ) as Header;
  } catch {
    throw new MatrixFormatError('the matrix header is not valid JSON');
  }
  const { nSamples, nFeatures } = header;
  if (
    !Number.isSafeInteger(nSamples) ||
    !Number.isSafeInteger(nFeatures) ||
    !Array.isArray(header.featureNames) ||
    !Array.isArray(header.sampleIds) ||
    header.featureNames.length !== nFeatures ||
    header.sampleIds.length !== nSamples
  ) {
    throw new MatrixFormatError('the matrix header is inconsistent (shape, names or ids)');
  }
  const blocks = new Map<BlockName, Float64Array | Int32Array | Uint8Array>();
  for (const b of header.blocks ?? []) blocks.set(b.name, readBlock(buf, b));
  const need = <T>(name: BlockName, n: number): T => {
    const a = blocks.get(name);
    if (!a || a.length !== n)
      throw new MatrixFormatError(`block "${name}" is missing or has the wrong length`);
    return a as T;
  };
  const data = need<Float64Array>('data', nSamples * nFeatures);
  let outcome: Outcome;
  const kind = header.outcome?.kind;
  switch (kind) {
    case 'none':
      outcome = { kind };
      break;
    case 'binary': {
      const classes = header.outcome.classes;
      if (!classes || classes.length !== 2)
        throw new MatrixFormatError('a binary outcome needs two classes');
      outcome = {
        kind,
        labels: need<Int32Array>('labels', nSamples),
        classes: [classes[0]!, classes[1]!],
      };
      break;
    }
    case 'multiclass':
      outcome = {
        kind,
        labels: need<Int32Array>('labels', nSamples),
        classes: header.outcome.classes ?? [],
      };
      break;
    case 'continuous':
      outcome = { kind, values: need<Float64Array>('values', nSamples) };
      break;
    case 'survival':
      outcome = {
        kind,
        time: need<Float64Array>('time', nSamples),
        event: need<Uint8Array>('event', nSamples),
      };
      break;
    default:
      throw new MatrixFormatError(`unknown outcome kind ${JSON.stringify(kind)}`);
  }
  return makeDataset({
    data,
    nSamples,
    featureNames: header.featureNames,
    sampleIds: header.sampleIds,
    outcome,
    batch: header.batch,
  });
}
