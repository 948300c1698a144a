#!/usr/bin/env node
// Thin launcher: the CLI (offline compute commands + remote commands, cli/main.ts) is TypeScript
// compiled by `npm run build` to dist/cli/main.js.
'use strict';
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
try {
  cli = require(entry);
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(entry)) {
    process.stderr.write('omicselector: not built yet; run `npm run build` first\n');
    process.exit(1);
  }
  throw e;
}
cli.main(process.argv).then(
  code => {
    process.exitCode = code;
    // Output is flushed by now; do not let an idle handle keep the process alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  err => {
    process.stderr.write(`omicselector: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
