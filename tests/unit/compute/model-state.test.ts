/**
 * Every registered model refuses a saved state of an unknown format version or of another method
 * before reading its fields (PREDICTION loads model files written by older or newer code).
 */
import { models } from '../../../compute/registry';

const fake = (code: string, version: number) => ({
  code,
  version,
  featureNames: ['a'],
  params: {},
  state: {},
});

describe.each(models.map(m => [m.code, m] as const))('%s', (code, def) => {
  it('refuses an unknown state version', () => {
    expect(() => def.load(fake(code, 99))).toThrow(/v(ersion )?99/);
  });
  it("refuses another method's state", () => {
    const other = models.find(m => m.code !== code)!.code;
    expect(() => def.load(fake(other, 1))).toThrow();
  });
});
