/** GraphQL operations of the jobs module (names are a contract: see the README). */
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { requireUser } from '../../auth.js';
import type { Context } from '../../context.js';
import { PageInfo } from '../../graphql/connection.js';
import { Role } from '../accounts/role.js';
import { jobTopic, userTopic } from './job.events.js';
import { isTerminal, type JobEventRecord } from './job.model.js';
import { jobsDeps } from './job.runtime.js';
import {
  cancelJob,
  jobEvents,
  jobResult,
  listJobs,
  listWorkers,
  retryJob,
  submitBatch,
  submitJob,
  visibleJob,
  type Actor,
  type SubmitInput,
} from './job.service.js';
import { eventsAfter } from './job.store.js';
import { AppError } from '../../errors.js';
import { openJobStream, openUserStream } from './job.stream.js';
import {
  JobConnection,
  JobEventType,
  JobNode,
  JobResultType,
  JobsArgs,
  SubmitJobInput,
  WorkerType,
} from './job.types.js';

/** Largest `jobEvents(first)`: the API's one page-size limit. */
const MAX_EVENT_PAGE = 100;

function actorOf(ctx: Context): Actor {
  const user = requireUser(ctx);
  return { id: user.id, role: user.role };
}

function inputOf(i: SubmitJobInput): SubmitInput {
  return {
    type: i.type,
    datasetId: i.datasetId,
    config: i.config,
    device: i.device,
    priority: i.priority,
    idempotencyKey: i.idempotencyKey ?? null,
    dependsOn: i.dependsOn ?? null,
  };
}

type SubData = SubscribeResolverData<unknown, Record<string, unknown>, Context>;

/** Replay stored events after `afterSeq`, then live ones; ownership checked before anything. */
async function subscribeJobUpdates({
  args,
  context,
}: SubData): Promise<AsyncIterable<JobEventRecord>> {
  const deps = jobsDeps(context.app);
  const job = await visibleJob(deps, actorOf(context), String(args.jobId));
  const raw = Number(args.afterSeq ?? 0);
  const afterSeq = Number.isInteger(raw) && raw > 0 ? raw : 0;
  if (isTerminal(job.status) && afterSeq >= job.lastSeq) {
    // Nothing left to send for an ended job: complete at once instead of waiting forever.
    return (async function* () {})();
  }
  return openJobStream({
    bus: deps.bus,
    topic: jobTopic(job.id),
    afterSeq,
    load: (after, limit) => eventsAfter(deps.knex, job, after, limit),
    pollMs: deps.settings.JOBS_SUBSCRIPTION_POLL_MS,
  });
}

async function subscribeMyJobUpdates({ context }: SubData): Promise<AsyncIterable<JobEventRecord>> {
  const deps = jobsDeps(context.app);
  return openUserStream(deps.bus, userTopic(actorOf(context).id));
}

@Resolver(() => JobNode)
export class JobsResolver {
  @Authorized()
  @Mutation(() => JobNode, {
    description:
      'Validate the config against the method registry, route to the cpu or gpu pool, queue. ' +
      'The same idempotencyKey returns the same job.',
  })
  async submitJob(@Arg('input') input: SubmitJobInput, @Ctx() ctx: Context): Promise<JobNode> {
    // No `ctx.em`: reading it forks an entity manager (~2 % of a submit's CPU) the submit never uses.
    const job = await submitJob(jobsDeps(ctx.app), actorOf(ctx), inputOf(input));
    return JobNode.from(job);
  }

  @Authorized()
  @Mutation(() => [JobNode], {
    description: 'Submit up to 50 jobs sharing a batchId; all are validated before any is queued',
  })
  async submitBatch(
    @Arg('jobs', () => [SubmitJobInput]) jobs: SubmitJobInput[],
    @Ctx() ctx: Context,
  ): Promise<JobNode[]> {
    const out = await submitBatch(jobsDeps(ctx.app), actorOf(ctx), jobs.map(inputOf));
    return out.map(JobNode.from);
  }

  @Authorized()
  @Mutation(() => JobNode, {
    description: 'Stop a job: a running compute stops within seconds; no retry follows',
  })
  async cancelJob(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<JobNode> {
    return JobNode.from(await cancelJob(jobsDeps(ctx.app), actorOf(ctx), id));
  }

  @Authorized()
  @Mutation(() => JobNode, { description: 'Run a FAILED or CANCELLED job again' })
  async retryJob(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<JobNode> {
    return JobNode.from(await retryJob(jobsDeps(ctx.app), actorOf(ctx), id));
  }

  @Authorized()
  @Query(() => JobNode)
  async job(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<JobNode> {
    return JobNode.from(await visibleJob(jobsDeps(ctx.app), actorOf(ctx), id));
  }

  @Authorized()
  @Query(() => JobConnection, { description: 'Your jobs, newest first (admins: everyone’s)' })
  async jobs(@Args() args: JobsArgs, @Ctx() ctx: Context): Promise<JobConnection> {
    const page = await listJobs(jobsDeps(ctx.app), actorOf(ctx), args);
    const pageInfo = Object.assign(new PageInfo(), {
      hasNextPage: page.hasNextPage,
      endCursor: page.cursors.at(-1) ?? null,
    });
    return Object.assign(new JobConnection(), {
      edges: page.nodes.map((n, i) => ({ cursor: page.cursors[i]!, node: JobNode.from(n) })),
      pageInfo,
      totalCount: page.totalCount,
    });
  }

  @Authorized()
  @Query(() => [JobEventType], {
    description:
      'Stored events with seq > afterSeq, in order, at most `first` (1–100); page on with afterSeq = the last seq',
  })
  async jobEvents(
    @Arg('jobId', () => ID) jobId: string,
    @Ctx() ctx: Context,
    @Arg('afterSeq', () => Int, { defaultValue: 0 }) afterSeq: number,
    @Arg('first', () => Int, { defaultValue: MAX_EVENT_PAGE, description: '1–100' }) first: number,
  ): Promise<JobEventType[]> {
    // Every page in the API is at most 100 (issue #9), this list included.
    if (!Number.isInteger(first) || first < 1 || first > MAX_EVENT_PAGE)
      throw AppError.badInput(`first must be 1–${MAX_EVENT_PAGE}`, 'first');
    const events = await jobEvents(jobsDeps(ctx.app), actorOf(ctx), jobId, afterSeq, first);
    return events.map(JobEventType.from);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [WorkerType], { description: 'ADMIN: live workers (from their heartbeats)' })
  async workers(@Ctx() ctx: Context): Promise<WorkerType[]> {
    return (await listWorkers(jobsDeps(ctx.app))).map(WorkerType.from);
  }

  @FieldResolver(() => JobResultType, {
    nullable: true,
    description: 'The result, once COMPLETED',
  })
  async result(@Root() job: JobNode, @Ctx() ctx: Context): Promise<JobResultType | null> {
    const deps = jobsDeps(ctx.app);
    const visible = await visibleJob(deps, actorOf(ctx), job.id);
    const r = await jobResult(deps, visible);
    return r ? JobResultType.from(r, visible) : null;
  }

  @Authorized()
  @Subscription(() => JobEventType, {
    subscribe: subscribeJobUpdates,
    description:
      'Events of one job: the stored ones after afterSeq, then live ones (no gap, no duplicate); ' +
      'completes after the terminal status',
  })
  jobUpdates(
    @Root() event: JobEventRecord,
    @Arg('jobId', () => ID) _jobId: string,
    @Arg('afterSeq', () => Int, { defaultValue: 0 }) _afterSeq: number,
  ): JobEventType {
    return JobEventType.from(event);
  }

  @Authorized()
  @Subscription(() => JobEventType, {
    subscribe: subscribeMyJobUpdates,
    description: 'Status changes and results of all your jobs, live',
  })
  myJobUpdates(@Root() event: JobEventRecord): JobEventType {
    return JobEventType.from(event);
  }
}
