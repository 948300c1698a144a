/**
 * No Docker engine runs on these machines, so the compose file is validated structurally:
 * services, healthchecks, the GPU reservation, env wiring and images.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: {
    replicas?: number | string;
    resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } };
  };
}

const root = join(__dirname, '..', '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.gpu.yml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

describe('docker-compose.gpu.yml', () => {
  it('defines the full stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'minio', 'minio-init', 'postgres', 'redis', 'worker-cpu', 'worker-gpu'].sort(),
    );
    expect(Object.keys(compose.volumes).sort()).toEqual(['miniodata', 'pgdata', 'redisdata']);
  });

  it('gives every long-running service a healthcheck', () => {
    for (const name of ['postgres', 'redis', 'minio', 'api', 'worker-cpu', 'worker-gpu']) {
      expect(services[name]!.healthcheck?.test.length).toBeGreaterThan(0);
    }
  });

  it('reserves an NVIDIA GPU for the gpu worker only', () => {
    const devices = services['worker-gpu']!.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toHaveLength(1);
    expect(devices[0]!.driver).toBe('nvidia');
    expect(devices[0]!.capabilities).toContain('gpu');
    expect(services['worker-cpu']!.deploy?.resources).toBeUndefined();
    expect(services['worker-gpu']!.command).toEqual(
      expect.arrayContaining(['dist/src/workers/main.js', '--pool', 'gpu']),
    );
    expect(services['worker-cpu']!.command).toEqual(
      expect.arrayContaining(['dist/src/workers/main.js', '--pool', 'cpu']),
    );
  });

  it('builds the app from the slim image and the gpu worker from a CUDA image', () => {
    expect(services.api!.build?.dockerfile).toBe('Dockerfile');
    expect(services['worker-cpu']!.image).toBe(services.api!.image);
    expect(services['worker-gpu']!.build?.dockerfile).toBe('Dockerfile.gpu');
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:20-bookworm-slim/m);
    const gpu = readFileSync(join(root, 'Dockerfile.gpu'), 'utf8');
    expect(gpu).toMatch(/^FROM nvidia\/cuda:.*ubuntu24\.04/m);
    expect(gpu).toMatch(/tfjs-node-gpu/);
  });

  it('wires the same services into the API and both worker pools', () => {
    for (const name of ['api', 'worker-cpu', 'worker-gpu']) {
      const env = services[name]!.environment!;
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\//);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.S3_ENDPOINT).toBe('http://minio:9000');
      expect(env.JWT_SECRET).toContain('JWT_SECRET');
      expect(env.NODE_ENV).toBe('production');
    }
    // Every variable the app reads from compose is documented in .env.example.
    const documented = new Set(
      readFileSync(join(root, '.env.example'), 'utf8')
        .split('\n')
        .map(l => /^([A-Z0-9_]+)=/.exec(l)?.[1])
        .filter((v): v is string => Boolean(v)),
    );
    const appVars = Object.keys(services.api!.environment!);
    expect(appVars.filter(v => !documented.has(v))).toEqual([]);
  });

  it('starts the api only after its dependencies are healthy and the bucket exists', () => {
    const deps = services.api!.depends_on!;
    expect(deps.postgres!.condition).toBe('service_healthy');
    expect(deps.redis!.condition).toBe('service_healthy');
    expect(deps['minio-init']!.condition).toBe('service_completed_successfully');
    expect(services['minio-init']!.command!.join(' ')).toMatch(/mc mb --ignore-existing/);
  });
});
