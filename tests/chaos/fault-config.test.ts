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
  const pause = parseConfig({
    ...base,
    NODE_ENV: 'test',
    OMICSELECTOR_FAULT: 'pause-before-result',
  });
  expect(pause.ok && pause.config.faultInjection).toBe('pause-before-result');
  const prodPause = parseConfig({
    ...base,
    NODE_ENV: 'production',
    OMICSELECTOR_FAULT: 'pause-before-result',
  });
  expect(prodPause.ok && prodPause.config.faultInjection).toBeNull();
});

test('RESULT_WRITE_RETRY_SECONDS: 120 by default, 0 turns the retry off, negative is refused', () => {
  const def = parseConfig({ ...base, NODE_ENV: 'test' });
  expect(def.ok && def.config.resultWriteRetrySeconds).toBe(120);
  const off = parseConfig({ ...base, NODE_ENV: 'test', RESULT_WRITE_RETRY_SECONDS: '0' });
  expect(off.ok && off.config.resultWriteRetrySeconds).toBe(0);
  const bad = parseConfig({ ...base, NODE_ENV: 'test', RESULT_WRITE_RETRY_SECONDS: '-1' });
  expect(!bad.ok && bad.errors.join('\n')).toMatch(/^RESULT_WRITE_RETRY_SECONDS: /m);
});
