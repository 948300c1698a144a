/**
 * The fault-injection switch: parsed with the rest of the configuration, an unknown crash point
 * refuses to start, and production ignores it (a stray variable must never crash a deployment).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config';

const base = {
  JWT_SECRET: 'x'.repeat(48),
  DATA_DIR: mkdtempSync(join(tmpdir(), 'fault-config-')),
};

test('OMICSELECTOR_FAULT: armed outside production, ignored in production, validated', () => {
  const test = parseConfig({ ...base, NODE_ENV: 'test', OMICSELECTOR_FAULT: 'crash-after-commit' });
  expect(test.ok && test.config.faultInjection).toBe('crash-after-commit');
  const prod = parseConfig({
    ...base,
    NODE_ENV: 'production',
    OMICSELECTOR_FAULT: 'crash-after-commit',
  });
  expect(prod.ok && prod.config.faultInjection).toBeNull();
  const unset = parseConfig({ ...base, NODE_ENV: 'test' });
  expect(unset.ok && unset.config.faultInjection).toBeNull();
  const bad = parseConfig({ ...base, NODE_ENV: 'test', OMICSELECTOR_FAULT: 'crash-everywhere' });
  expect(bad.ok).toBe(false);
  expect(!bad.ok && bad.errors.join('\n')).toMatch(/^OMICSELECTOR_FAULT: /m);
});
