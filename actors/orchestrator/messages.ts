/**
 * The orchestration protocol (reference §5.2, §10A): what travels on `workflow_orchestration` and on the workers'
 * queues (`builder`, `deployer`, `deploy_oa`). The wire keeps the original's snake_case keys; this is the only file
 * that spells them for other components (style R6).
 *
 * One flat request carries a workflow from milestone to milestone: the orchestrator dispatches it to a worker with
 * `current_step` = the milestone to run, and the worker sends the same map back with its additions and `current_step`
 * still the milestone it finished (reference §5.2).
 */
import { z } from 'zod';
import { AuthorityHostname } from '../../runtime/haproxy/core/model.js';

/** Queues (reference §1.16), each in some exchange. */
export const WORKFLOW_ORCHESTRATION_QUEUE = 'workflow_orchestration';
export const BUILDER_QUEUE = 'builder';
export const DEPLOYER_QUEUE = 'deployer';
export const DEPLOY_OA_QUEUE = 'deploy_oa';

/** Envelope types (style R14). */
export const EXECUTE_REQUESTED = 'workflow.execute_requested';
export const CANCEL_REQUESTED = 'workflow.cancel_requested';
/** Orchestrator -> worker: run `current_step`. */
export const MILESTONE_REQUESTED = 'workflow.milestone_requested';
/** Worker -> orchestrator: `current_step` finished; the payload carries the worker's additions. */
export const STEP_COMPLETED = 'workflow.step_completed';
/** Worker -> orchestrator: `current_step` failed with `failure_reason`. */
export const STEP_FAILED = 'workflow.step_failed';

export const MILESTONES = ['config', 'build', 'deploy', 'deploy_oa', 'scheduled'] as const;
export type Milestone = (typeof MILESTONES)[number];

export type MilestoneOrder = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether `milestones` can run in this order (issue 14 item 3), from what each needs of an earlier one (reference §5.1,
 * §6, §7): `deploy` and `deploy_oa` run what a Builder milestone (`config` or `build`) before them found: the cluster
 * (`etcd.json`), the units and the image. `config` verifies that the commit's image is already in the registry, so
 * before the workflow's first `build` it fails (no image yet) or makes that build a no-op. Anything else runs: a
 * `build` or `config` after others, a milestone twice, `scheduled` anywhere.
 */
export function checkMilestoneOrder(milestones: readonly string[]): MilestoneOrder {
  const unknown = milestones.find((m) => !(MILESTONES as readonly string[]).includes(m));
  if (unknown !== undefined) return { ok: false, reason: `unknown milestone ${JSON.stringify(unknown)} (known: ${MILESTONES.join(', ')})` };
  const firstOf = (...names: Milestone[]): number => {
    const at = milestones.findIndex((m) => (names as string[]).includes(m));
    return at === -1 ? Number.POSITIVE_INFINITY : at;
  };
  const builder = firstOf('config', 'build');
  const deploy = firstOf('deploy', 'deploy_oa');
  if (deploy < builder) {
    const name = milestones[deploy];
    return { ok: false, reason: `${name} needs a config or build milestone before it, which finds the cluster, the units and the image it deploys` };
  }
  const build = firstOf('build');
  if (build !== Number.POSITIVE_INFINITY && firstOf('config') < build) {
    return { ok: false, reason: 'config comes before build: config verifies that the image is already in the registry, and the build after it is what makes it; put build first (it renders the templates too), or leave config out' };
  }
  return { ok: true };
}

const Id = z.union([z.string(), z.number()]).transform(String);
const nullable = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** Where to check a container's health before the next instance is replaced (issue 7). */
export const UnitHealth = z.union([
  z.strictObject({
    /** HTTP GET on the container port `port` (the unit's first port when absent); any 2xx/3xx is healthy. */
    http: z.strictObject({
      path: z.string().startsWith('/', 'must start with /'),
      port: z.number().int().min(1).max(65_535).optional(),
      timeout_seconds: z.number().positive().max(3_600).default(60),
      interval_seconds: z.number().positive().max(600).default(1),
    }),
  }),
  /** The image's own HEALTHCHECK decides. */
  z.strictObject({ docker: z.literal(true), timeout_seconds: z.number().positive().max(3_600).default(60) }),
  /** Healthy once the container has been running for `seconds`. */
  z.strictObject({ running_seconds: z.number().nonnegative().max(3_600) }),
]);
export type UnitHealth = z.infer<typeof UnitHealth>;

/**
 * A canary release of a routed unit (issue 15; actors/deployer/core/canary.ts): the deploy's first new instance takes
 * `weight` percent of the route's requests beside the old release for `duration_seconds`; the router's counters of its
 * 5xx answers and failed connections decide, against `max_error_rate` (0-1), whether the rollout goes on or stops.
 */
export const UnitCanary = z.strictObject({
  weight: z.number().int().min(1).max(99),
  duration_seconds: z.number().int().min(1).max(3_600),
  max_error_rate: z.number().min(0).max(1),
});

/**
 * The address clients use for a unit (issue 15): the router's authority `hostname:port`, served by every healthy
 * instance's host port for `container_port` (the unit's first port when absent). A deploy adds an instance's backend
 * only after its health check passed, and drains an old one (`drain_seconds`, 30 by default) before it stops.
 */
export const UnitRoute = z.strictObject({
  hostname: AuthorityHostname,
  port: z.number().int().min(1).max(65_535),
  container_port: z.number().int().min(1).max(65_535).optional(),
  drain_seconds: z.number().int().min(0).max(3_600).default(30),
  canary: UnitCanary.optional(),
});
export type UnitRoute = z.infer<typeof UnitRoute>;

/**
 * A unit of the deployment repo's `units.json` (issue 6 item 3, replacing Fleet's `*.service` files): what the
 * Deployer runs `instances` times across the cluster's hosts. Each container port gets a host port of the cluster.
 */
export const DeployableUnit = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be lower-case letters, digits, "_", "." or "-" (at most 63)'),
  /** The image; the built `<docker_url>:<sha>-<context hash>` when absent. */
  image: z.string().min(1).optional(),
  ports: z.array(z.number().int().min(1).max(65_535)).default([]),
  environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string()).default({}),
  command: z.array(z.string()).optional(),
  /** One per active host of the cluster when absent (reference §7.1). */
  instances: z.number().int().min(0).max(100).optional(),
  health: UnitHealth.optional(),
  route: UnitRoute.optional(),
}).check((ctx) => {
  const { route, ports } = ctx.value;
  if (route === undefined) return;
  const port = route.container_port ?? ports[0];
  if (port === undefined) ctx.issues.push({ code: 'custom', path: ['route'], message: 'a unit with a route needs a container port (ports)', input: route });
  else if (!ports.includes(port)) ctx.issues.push({ code: 'custom', path: ['route', 'container_port'], message: `must be one of the unit's ports (${ports.join(', ')})`, input: port });
});
export type DeployableUnit = z.infer<typeof DeployableUnit>;

/** `execute_options` as the Manager froze them at the first execute (reference §3.4). */
export const ExecuteOptions = z.object({
  force_build: z.boolean().default(false),
  build_messaging_exchange_id: nullable(z.number().int()),
  deploy_messaging_exchange_id: nullable(z.number().int()),
});

/**
 * The orchestration request (reference §5.2, §10A). Unknown keys are kept (`loose`): a newer worker's additions
 * survive an older hop during a rolling upgrade.
 */
export const OrchestrationRequest = z.looseObject({
  // The workflow's own fields.
  id: z.uuid(),
  workflow_id: nullable(z.string()),
  deployment_repo: nullable(z.string()),
  deployment_repo_git_ref: nullable(z.string()),
  source_repo: nullable(z.string()),
  source_repo_git_ref: nullable(z.string()),
  source_commit_hash: nullable(z.string()),
  milestones: z.array(z.string()),
  current_step: nullable(z.string()),
  elapsed_step_time: nullable(z.string()),
  elapsed_workflow_time: nullable(z.string()),
  workflow_duration: nullable(z.string()),
  workflow_step_durations: nullable(z.record(z.string(), z.string())),
  workflow_error: nullable(z.boolean()),
  workflow_completed: nullable(z.boolean()),
  event_log: nullable(z.array(z.string())),
  /** ISO 8601 (RFC 1123 accepted), as every timestamp below. */
  workflow_start_time: nullable(z.string()),
  step_time: nullable(z.string()),
  scheduled_start_time: nullable(z.string()),
  execute_options: nullable(ExecuteOptions),
  // Run-time fields.
  force_build: nullable(z.boolean()),
  build_messaging_exchange_id: nullable(Id),
  deploy_messaging_exchange_id: nullable(Id),
  orchestration_queue_name: nullable(z.string()),
  workflow_orchestration_exchange_id: nullable(Id),
  workflow_orchestration_broker_id: nullable(Id),
  notifications_exchange_id: nullable(Id),
  notifications_broker_id: nullable(Id),
  docker_build_etcd_token: nullable(z.string()),
  etcd_token: nullable(z.string()),
  deployable_units: nullable(z.array(DeployableUnit)),
  notifications_config: nullable(z.record(z.string(), z.unknown())),
  fleet_config: nullable(z.record(z.string(), z.unknown())),
  aws_config: nullable(z.record(z.string(), z.unknown())),
  ecs_task_definition: nullable(z.string()),
  // Ours (issue 5, 6, 7).
  /** Set by the orchestrator per dispatch; a worker echoes it, so a duplicate or stale callback is recognised. */
  dispatch_id: nullable(z.string()),
  /** The image the Builder built or verified (`<docker_url>:<sha>-<context hash>`, README "Image identity"), which `deploy` runs. */
  docker_image: nullable(z.string()),
  /** Why the worker failed the milestone (on `workflow.step_failed`): a sentence a person can act on. */
  failure_reason: nullable(z.string()),
  /** Product and environment whose variables a deploy puts in the containers' environment (issue 7). */
  product_name: nullable(z.string()),
  environment_name: nullable(z.string()),
});
export type OrchestrationRequest = z.infer<typeof OrchestrationRequest>;

/** Payload of `workflow.cancel_requested`: the Manager has already failed the workflow when this is sent. */
export const CancelRequested = z.strictObject({
  workflow_id: z.uuid(),
  reason: z.string(),
  cancelled_by: z.string(),
});
export type CancelRequested = z.infer<typeof CancelRequested>;

/** What arrives on `workflow_orchestration`. */
export type OrchestratorInbox =
  | { readonly type: typeof EXECUTE_REQUESTED | typeof STEP_COMPLETED | typeof STEP_FAILED; readonly payload: OrchestrationRequest }
  | { readonly type: typeof CANCEL_REQUESTED; readonly payload: CancelRequested };

/**
 * The dispatch a saved workflow waits for: `orchestration.run.dispatchId` as the orchestrator persists it (issue 14),
 * read by workers before they run a request and by the Manager before it takes a worker's save. Null when none.
 */
export function awaitedDispatchOf(orchestration: unknown): string | null {
  const run = (orchestration as { run?: { dispatchId?: unknown } | null } | null | undefined)?.run;
  return typeof run?.dispatchId === 'string' ? run.dispatchId : null;
}

/** The queue a milestone's worker listens on (reference §5.4); undefined for milestones the orchestrator runs itself. */
export function workerQueueOf(milestone: string): string | undefined {
  switch (milestone) {
    case 'config':
    case 'build':
      return BUILDER_QUEUE;
    case 'deploy':
      return DEPLOYER_QUEUE;
    case 'deploy_oa':
      return DEPLOY_OA_QUEUE;
    default:
      return undefined;
  }
}
