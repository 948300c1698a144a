/**
 * Operator routes: `/metrics` (Prometheus; optional METRICS_TOKEN bearer) and the admin-only
 * bull-board dashboard at `/admin/queues`. The dashboard accepts an ADMIN's access token or API
 * key as `Authorization: Bearer …`, or the same token in the `omicselector_admin` cookie (so a
 * browser can open it: set the cookie once, e.g. from the dev tools). 401 without credentials,
 * 403 for non-admins.
 */
import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { AppServices } from '../context.js';
import { log } from '../logger.js';
import { Role } from '../modules/accounts/role.js';
import { authenticate } from '../modules/accounts/authenticate.js';
import { jobsDeps } from '../modules/jobs/job.runtime.js';
import { POOLS } from '../queue/names.js';
import type { AppMetrics } from './metrics.js';

export const ADMIN_COOKIE = 'omicselector_admin';

function cookieToken(req: Request): string | undefined {
  const header = req.header('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === ADMIN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function requireAdmin(app: AppServices) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const cookie = cookieToken(req);
    const header = req.header('authorization') ?? (cookie ? `Bearer ${cookie}` : undefined);
    if (!header) {
      res.status(401).json({ error: 'admin credentials required' });
      return;
    }
    try {
      const auth = await authenticate(header, app.orm.em.fork(), app);
      if (!auth) {
        res.status(401).json({ error: 'admin credentials required' });
        return;
      }
      if (auth.user.role !== Role.ADMIN) {
        res.status(403).json({ error: 'admins only' });
        return;
      }
      next();
    } catch {
      res.status(401).json({ error: 'invalid or expired credentials' });
    }
  };
}

export function installOpsRoutes(expressApp: Express, app: AppServices, metrics: AppMetrics): void {
  const { enabled, token } = app.config.metrics;
  if (enabled) {
    expressApp.get('/metrics', async (req, res) => {
      if (token) {
        const given = Buffer.from(req.header('authorization') ?? '');
        const want = Buffer.from(`Bearer ${token}`);
        if (given.length !== want.length || !timingSafeEqual(given, want)) {
          res.status(401).send('unauthorized\n');
          return;
        }
      }
      try {
        res.setHeader('content-type', metrics.registry.contentType);
        res.send(await metrics.registry.metrics());
      } catch (err) {
        log.error('metrics collection failed', { error: err as Error });
        res.status(500).send('metrics collection failed\n');
      }
    });
  }

  // Built on the first admin request, so an API that never serves it opens no queue connections.
  let router: ReturnType<ExpressAdapter['getRouter']> | undefined;
  const dashboard = (req: Request, res: Response, next: NextFunction) => {
    if (!router) {
      const serverAdapter = new ExpressAdapter();
      serverAdapter.setBasePath('/admin/queues');
      const deps = jobsDeps(app);
      createBullBoard({
        queues: POOLS.map(pool => new BullMQAdapter(deps.queues.queue(pool))),
        serverAdapter,
      });
      router = serverAdapter.getRouter();
    }
    (router as (req: Request, res: Response, next: NextFunction) => void)(req, res, next);
  };
  expressApp.use('/admin/queues', requireAdmin(app), dashboard);
}
