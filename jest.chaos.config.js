/**
 * `npm run test:chaos`: the fault battery (tests/chaos). Separate from `npm test` because it kills
 * and restarts processes and services: it runs alone, serially (--runInBand), after the main
 * suite, against its own PostgreSQL / Redis / S3 started by the same global setup (one fresh set
 * per jest run); the PostgreSQL-restart test starts a dedicated cluster of its own on top.
 */
const base = require('./jest.config.js');
const integration = base.projects.find(p => p.displayName === 'integration');

module.exports = {
  testTimeout: 180000,
  projects: [
    {
      ...integration,
      displayName: 'chaos',
      roots: ['<rootDir>/tests/chaos'],
      testMatch: ['**/*.test.ts'],
    },
  ],
};
