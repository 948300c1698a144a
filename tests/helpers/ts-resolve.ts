/**
 * jest's moduleNameMapper (`./x.js` → `./x`) does not apply to globalSetup/globalTeardown, which
 * Node loads with its own require. This makes Node's resolver retry a failed relative `.js`
 * import as the `.ts` source. Import it first in those files.
 */
import Module from 'node:module';

type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve; __osk_ts_resolve?: boolean };

if (!mod.__osk_ts_resolve) {
  mod.__osk_ts_resolve = true;
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    try {
      return original.call(this, request, ...rest);
    } catch (err) {
      if (request.startsWith('.') && request.endsWith('.js')) {
        return original.call(this, request.slice(0, -3), ...rest);
      }
      throw err;
    }
  };
}
