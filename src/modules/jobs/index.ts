/** The jobs module's entities for the module registry (`src/modules/index.ts`). */
import { JobEvent } from './job-event.entity.js';
import { JobResult } from './job-result.entity.js';
import { Job } from './job.entity.js';

export const jobEntities = [Job, JobEvent, JobResult];
export { JobsResolver } from './job.resolver.js';
export { JobResultResolver } from './result.resolver.js';
