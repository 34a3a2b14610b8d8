import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One process's Prometheus registry (design §11: `/metrics` on every process) and the series the runtime and the
 * components record into it. Made once per process by runtime/boot.ts and passed down (to in-memory actors as
 * `ctx.metrics`): no module-level registry. Label values are bounded: route templates, queue names, behaviour modules.
 */

/** How a delivery was settled, as the transports settle it (runtime/messaging/transport.ts, ConsumerSpec). */
export type Settlement = 'ack' | 'retry' | 'dead_letter';

/** How a request across processes ended: a reply, an error reply (or a refused send), or no reply in time. */
export type RpcOutcome = 'ok' | 'error' | 'timeout';

/** A milestone the orchestrator finished: which one, how, and how long it ran. */
export interface MilestoneEnd {
  readonly milestone: string;
  readonly outcome: 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
  readonly seconds: number;
}

/** How many workflows are in each state, read from the database when the registry is scraped. */
export type WorkflowCounts = () => Promise<ReadonlyArray<{ readonly state: string; readonly count: number }>>;

/** Milestones run from seconds (config) to an hour (a build). */
const MILESTONE_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600];
/** An API answer or an RPC: milliseconds to a FleetManager's 20 s per host. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ProcessMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Histogram<'method' | 'route' | 'status'>;
  private readonly milestones: Histogram<'milestone' | 'outcome'>;
  private readonly builds: Counter<'outcome'>;
  private readonly deploys: Counter<'milestone' | 'outcome'>;
  private readonly deliveries: Counter<'queue'>;
  private readonly settlements: Record<Settlement, Counter<'queue'>>;
  private readonly rpc: Histogram<'queue' | 'outcome'>;
  private readonly restarts: Counter<'supervisor' | 'actor'>;
  private readonly mailboxes = new Map<{ readonly depth: number }, string>();
  private workflowCounts: WorkflowCounts | undefined;

  constructor() {
    const registers = [this.registry];
    // Unprefixed (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`...): the names dashboards expect.
    collectDefaultMetrics({ register: this.registry });
    const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) => new Histogram<L>({ name, help, labelNames, buckets, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
    this.httpRequests = histogram('openaperture_http_request_duration_seconds', "The Manager's API answers, by method, route template and status", ['method', 'route', 'status'], REQUEST_BUCKETS);
    this.milestones = histogram('openaperture_milestone_duration_seconds', 'Milestones the orchestrator finished, by milestone and outcome', ['milestone', 'outcome'], MILESTONE_BUCKETS);
    this.builds = counter('openaperture_builds_total', 'Build milestones finished, by outcome', ['outcome']);
    this.deploys = counter('openaperture_deploys_total', 'Deploy milestones (deploy, deploy_oa) finished, by outcome', ['milestone', 'outcome']);
    this.deliveries = counter('openaperture_messaging_deliveries_total', 'Messages delivered to a consumer of this process, by queue', ['queue']);
    this.settlements = {
      ack: counter('openaperture_messaging_acks_total', 'Deliveries acknowledged (handled, or a request answered with its error), by queue', ['queue']),
      retry: counter('openaperture_messaging_retries_total', 'Deliveries requeued for their one retry, by queue', ['queue']),
      dead_letter: counter('openaperture_messaging_dead_letters_total', 'Deliveries sent to <queue>_error, by queue', ['queue']),
    };
    this.rpc = histogram('openaperture_rpc_duration_seconds', 'Requests this process sent across processes, by destination queue and outcome', ['queue', 'outcome'], REQUEST_BUCKETS);
    this.restarts = counter('openaperture_actor_restarts_total', 'Actors restarted by their supervisor, by supervisor and behaviour', ['supervisor', 'actor']);
    mailboxGauge(this.mailboxes, registers);
    workflowsGauge(() => this.workflowCounts, counter('openaperture_workflows_unread_total', 'Scrapes that could not read the workflow counts (the database did not answer)', []), registers);
  }

  /** One answer of the Manager's API; `route` is the template (`/workflows/:id`), never the path. */
  httpRequest(labels: { readonly method: string; readonly route: string; readonly status: number }, seconds: number): void {
    this.httpRequests.observe({ method: labels.method, route: labels.route, status: String(labels.status) }, seconds);
  }

  milestoneEnded(end: MilestoneEnd): void {
    this.milestones.observe({ milestone: end.milestone, outcome: end.outcome }, end.seconds);
    if (end.milestone === 'build') this.builds.inc({ outcome: end.outcome });
    if (end.milestone === 'deploy' || end.milestone === 'deploy_oa') this.deploys.inc({ milestone: end.milestone, outcome: end.outcome });
  }

  delivered(queue: string): void {
    this.deliveries.inc({ queue });
  }

  settled(queue: string, settlement: Settlement): void {
    this.settlements[settlement].inc({ queue });
  }

  /** Starts timing a request to `queue`; call the result with how it ended. */
  rpcStarted(queue: string): (outcome: RpcOutcome) => void {
    const end = this.rpc.startTimer({ queue });
    return (outcome) => void end({ outcome });
  }

  actorRestarted(supervisor: string, actor: string): void {
    this.restarts.inc({ supervisor, actor });
  }

  /** Counts an actor's mailbox into `openaperture_actor_mailbox_depth`; the result stops counting it. */
  trackMailbox(actor: string, mailbox: { readonly depth: number }): () => void {
    this.mailboxes.set(mailbox, actor);
    return () => void this.mailboxes.delete(mailbox);
  }

  /** Where `openaperture_workflows` reads its counts (the Manager's database); the result stops reading there. */
  countWorkflowsWith(read: WorkflowCounts): () => void {
    this.workflowCounts = read;
    return () => {
      if (this.workflowCounts === read) this.workflowCounts = undefined;
    };
  }
}

/** `workflow` of `file:///…/actors/orchestrator/workflow.actor.js`: a behaviour's label, one per module. */
export function behaviourLabelOf(module: string): string {
  const file = module.slice(module.lastIndexOf('/') + 1);
  return file.replace(/(\.actor)?\.[cm]?[jt]s$/, '');
}

/** `openaperture_actor_mailbox_depth`: the mailboxes tracked when scraped, summed by behaviour. */
function mailboxGauge(mailboxes: ReadonlyMap<{ readonly depth: number }, string>, registers: Registry[]): void {
  new Gauge({
    name: 'openaperture_actor_mailbox_depth',
    help: 'Messages queued or running in the mailboxes of in-memory actors, by behaviour',
    labelNames: ['actor'],
    registers,
    collect() {
      this.reset();
      for (const [mailbox, actor] of mailboxes) this.inc({ actor }, mailbox.depth);
    },
  });
}

/** `openaperture_workflows`: read when scraped, from where the Manager said (none in a process without one). */
function workflowsGauge(counts: () => WorkflowCounts | undefined, unread: Counter, registers: Registry[]): void {
  new Gauge({
    name: 'openaperture_workflows',
    help: 'Workflows by state (pending, running, succeeded, failed), read from the database at scrape time',
    labelNames: ['state'],
    registers,
    async collect() {
      const read = counts();
      this.reset();
      if (read === undefined) return;
      // The rest of the scrape is still worth having when the database does not answer: the failure is counted.
      const rows = await read().catch(() => undefined);
      if (rows === undefined) unread.inc();
      for (const { state, count } of rows ?? []) this.set({ state }, count);
    },
  });
}
