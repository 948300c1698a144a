import { type Dataset, type Outcome, makeDataset } from '../../../../compute/core/dataset';
import {
  MATRIX_FORMAT_VERSION,
  MatrixFormatError,
  decodeDataset,
  encodeDataset,
} from '../../../../compute/io/binary';
import { parseTabular } from '../../../../compute/io/tabular';

function sample(outcome: Outcome, batch?: string[]): Dataset {
  const n = 3;
  const featureNames = ['g1', 'gène "2"', 'g3'];
  const data = Float64Array.from([1.5, -0, NaN, 1e-300, 2 ** 53, -7.25, 0.1, Number.MAX_VALUE, 3]);
  return makeDataset({
    data,
    nSamples: n,
    featureNames,
    sampleIds: ['a', 'b', 'ç'],
    outcome,
    batch,
  });
}

const outcomes: Outcome[] = [
  { kind: 'none' },
  { kind: 'binary', labels: Int32Array.from([0, 1, 1]), classes: ['ctrl', 'case'] },
  { kind: 'multiclass', labels: Int32Array.from([2, 0, 1]), classes: ['x', 'y', 'z'] },
  { kind: 'continuous', values: Float64Array.from([0.5, -1, 1e10]) },
  { kind: 'survival', time: Float64Array.from([1, 2.5, 3]), event: Uint8Array.from([1, 0, 1]) },
];

describe('matrix binary format', () => {
  it.each(outcomes.map(o => [o.kind, o] as const))(
    'round-trips a dataset with a %s outcome',
    (_k, outcome) => {
      const ds = sample(outcome, outcome.kind === 'survival' ? ['b1', 'b2', 'b1'] : undefined);
      const back = decodeDataset(encodeDataset(ds));
      expect(back.nSamples).toBe(3);
      expect(back.nFeatures).toBe(3);
      expect(back.featureNames).toEqual(ds.featureNames);
      expect(back.sampleIds).toEqual(ds.sampleIds);
      expect(back.batch).toEqual(ds.batch);
      // Bit-exact values, including -0 and NaN.
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength)).toEqual(
        Buffer.from(ds.data.buffer),
      );
      expect(Object.is(back.data[1], -0)).toBe(true);
      expect(back.outcome).toEqual(outcome);
    },
  );

  it('returns a zero-copy view when the buffer is aligned, and copies when it is not', () => {
    const ds = sample(outcomes[1]!);
    const buf = encodeDataset(ds);
    expect(buf.byteOffset % 8).toBe(0);
    const view = decodeDataset(buf);
    expect(view.data.buffer).toBe(buf.buffer);

    const shifted = Buffer.alloc(buf.length + 1);
    buf.copy(shifted, 1);
    const unaligned = shifted.subarray(1);
    const copy = decodeDataset(unaligned);
    expect(copy.data.buffer).not.toBe(unaligned.buffer);
    expect(Array.from(copy.data)).toEqual(Array.from(ds.data));
    expect(copy.outcome).toEqual(ds.outcome);
  });

  it('puts every block on an 8-byte boundary and starts with the versioned magic', () => {
    const buf = encodeDataset(sample(outcomes[4]!));
    expect(buf.subarray(0, 8).toString('latin1')).toBe('OSMATRIX');
    expect(buf.readUInt32LE(8)).toBe(MATRIX_FORMAT_VERSION);
    const header = JSON.parse(buf.subarray(16, 16 + buf.readUInt32LE(12)).toString()) as {
      blocks: { offset: number }[];
    };
    expect(header.blocks.map(b => b.offset % 8)).toEqual([0, 0, 0]);
  });

  it('round-trips what the CSV reader produced', async () => {
    const { dataset } = await parseTabular(Buffer.from('id,y,g1,g2\na,p,1,NA\nb,q,2,3\n'), {
      outcome: { kind: 'binary', column: 'y', positiveClass: 'q' },
    });
    expect(decodeDataset(encodeDataset(dataset))).toEqual(dataset);
  });

  it('rejects foreign, truncated, tampered and future-version files', () => {
    const buf = encodeDataset(sample(outcomes[3]!));
    expect(() => decodeDataset(Buffer.from('id,g1\na,1\n'))).toThrow(/bad magic bytes/);
    expect(() => decodeDataset(buf.subarray(0, buf.length - 16))).toThrow(/truncated/);
    expect(() => decodeDataset(buf.subarray(0, 20))).toThrow(/truncated inside its header/);
    const future = Buffer.from(buf);
    future.writeUInt32LE(MATRIX_FORMAT_VERSION + 1, 8);
    expect(() => decodeDataset(future)).toThrow(/unsupported matrix format version 2/);
    const badJson = Buffer.from(buf);
    badJson[16] = 0x7a;
    expect(() => decodeDataset(badJson)).toThrow(MatrixFormatError);
  });
});
