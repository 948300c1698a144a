/** Stops what global-setup started and removes its temp directory and env file. */
import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const services = globalThis.__OMICSELECTOR_TEST_SERVICES__;
  if (!services) {
    return;
  }
  await services.stop();
  rmSync(services.envFile, { force: true });
  rmSync(services.tmpDir, { recursive: true, force: true });
  globalThis.__OMICSELECTOR_TEST_SERVICES__ = undefined;
}
