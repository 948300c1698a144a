/**
 * Reading credentials: a line from the terminal, a secret without echo, or all of stdin
 * (`--password-stdin`, for scripts: `echo "$PW" | omicselector login --email … --password-stdin`).
 */
import { createInterface } from 'node:readline';
import { UsageError } from '../compute/cli/errors.js';

function requireTty(flag: string): void {
  if (!process.stdin.isTTY) {
    throw new UsageError(flag, 'not given and there is no terminal to ask on');
  }
}

export async function promptLine(question: string, flag: string): Promise<string> {
  requireTty(flag);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string>(resolve => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** Reads a line in raw mode, echoing nothing; Ctrl-C aborts. */
export async function promptSecret(question: string, flag: string): Promise<string> {
  requireTty(flag);
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(value);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            const abort = new Error('interrupted');
            abort.name = 'AbortError';
            reject(abort);
            return;
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/** All of stdin, without the trailing newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
