/**
 * DATA_DIR/runtime.json describes the running `npm start` process (its pid and the URLs of the
 * services it started), so `npm run migrate` / `npm run create-admin` can use the embedded
 * database while the server runs instead of starting a second postmaster on the same directory.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RuntimeInfo {
  pid: number;
  url: string;
  databaseUrl: string;
  redisUrl: string;
  startedAt: string;
}

const file = (dataDir: string) => join(dataDir, 'runtime.json');

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeRuntime(dataDir: string, info: RuntimeInfo): void {
  writeFileSync(file(dataDir), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
}

/** The runtime info of a live server using this DATA_DIR, if any. */
export function readLiveRuntime(dataDir: string): RuntimeInfo | undefined {
  if (!existsSync(file(dataDir))) {
    return undefined;
  }
  try {
    const info = JSON.parse(readFileSync(file(dataDir), 'utf8')) as RuntimeInfo;
    return info.pid !== process.pid && isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

export function removeRuntime(dataDir: string): void {
  rmSync(file(dataDir), { force: true });
}
