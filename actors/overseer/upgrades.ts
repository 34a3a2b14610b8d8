/**
 * System component upgrades (reference §8.3): an upgrade request, explicit or hourly, creates the upgrade workflows
 * and executes the first; the monitor then follows every component of the exchange that is `upgrade_in_progress`,
 * read from the Manager each pass, so an Overseer that restarts carries on where it stopped. Work on one component
 * type runs one piece at a time (a request and a monitoring pass never interleave).
 */
import { z } from 'zod';
import { UPGRADE_STATUSES, type ComponentFields, type ComponentStatus, type UpgradeStatus } from './core/component.js';
import { assessUpgrade, ineligibleComponent, type UpgradeTrigger } from './core/eligibility.js';
import { componentAfter, decideUpgradeProgress, failedUpgrade, planUpgradeWorkflows, upgradingComponent } from './core/upgrade.js';
import type { OverseerDeps } from './deps.js';
import { UpgradeStatusError } from './errors.js';
import { hourlyDelayMs, planHourlyTimers } from './core/schedule.js';
import { serialByKey } from './serial-by-key.js';
import type { Timer } from '../../runtime/actors/protocol.js';
import { readAllPages, type SystemComponent, type SystemComponentInput } from '../../http/client/manager-client.js';

const UpgradeStatusSchema = z.object({
  workflows: z.array(z.string().min(1)),
  current_workflow: z.string(),
  upgrade_start_time: z.string(),
  failure_reason: z.string(),
  target_source_repo: z.string().min(1),
  target_source_repo_git_ref: z.string().min(1),
  target_deployment_repo: z.string().min(1),
  target_deployment_repo_git_ref: z.string().min(1),
}) satisfies z.ZodType<UpgradeStatus>;

/** A status the Overseer does not know (the Manager validates them) counts as none. */
const statusOf = (s: string | null): ComponentStatus | null => UPGRADE_STATUSES.find((known) => known === s) ?? null;

/** The Manager's row as the decisions see it. */
const fieldsOf = (c: SystemComponent): ComponentFields => ({
  messaging_exchange_id: c.messaging_exchange_id,
  type: c.type,
  source_repo: c.source_repo,
  source_repo_git_ref: c.source_repo_git_ref,
  deployment_repo: c.deployment_repo,
  deployment_repo_git_ref: c.deployment_repo_git_ref,
  upgrade_strategy: c.upgrade_strategy,
  status: statusOf(c.status),
  upgrade_status: c.upgrade_status,
});

/** `ComponentFields` as the Manager's PUT body; the Manager only knows the two strategies it validates. */
const inputOf = (c: ComponentFields): SystemComponentInput => ({ ...c, upgrade_strategy: c.upgrade_strategy === 'hourly' ? 'hourly' : 'manual' });

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Upgrades {
  private readonly serially = serialByKey();
  /** Type -> its pending hourly request. */
  private readonly hourly = new Map<string, Timer>();

  constructor(
    private readonly deps: OverseerDeps,
    /** Delivers the type's hourly request to `hourlyDue()` after `delayMs` (a timer message of the actor). */
    private readonly later: (delayMs: number, componentType: string) => Timer,
  ) {}

  /** The components of the Overseer's exchange. */
  components(): Promise<SystemComponent[]> {
    return readAllPages((w) => this.deps.client.systemComponents.listOfExchange(this.deps.args.exchangeId, w));
  }

  /** An upgrade request for a type; false when the exchange has no component of that type. */
  async request(type: string, trigger: UpgradeTrigger): Promise<boolean> {
    return this.serially(type, async () => {
      const component = (await this.components()).find((c) => c.type === type);
      if (component === undefined) return false;
      await this.start(component, trigger);
      return true;
    });
  }

  /** One monitoring pass over every upgrade in progress in the exchange. */
  async monitor(): Promise<void> {
    const inProgress = (await this.components()).filter((c) => c.status === 'upgrade_in_progress');
    await Promise.all(inProgress.map((c) => this.serially(c.type, () => this.follow(c.id))));
  }

  /**
   * Gives each `hourly` component a timer that asks for its upgrade at a random moment of the window, and takes away
   * the timers of components that are gone or no longer hourly (reference §8.3 ComponentStatusMgr).
   */
  async schedule(): Promise<void> {
    const plan = planHourlyTimers(await this.components(), new Set(this.hourly.keys()));
    for (const type of plan.cancel) {
      this.hourly.get(type)?.cancel();
      this.hourly.delete(type);
    }
    for (const type of plan.schedule) {
      const delayMs = hourlyDelayMs(this.deps.random(), this.deps.args.upgrades.hourlyWindowMs);
      this.hourly.set(type, this.later(delayMs, type));
      this.deps.log.debug({ componentType: type, delayMs }, 'hourly upgrade scheduled');
    }
  }

  /** The hourly request of a type come due. */
  async hourlyDue(type: string): Promise<void> {
    this.hourly.delete(type);
    await this.request(type, 'scheduled');
  }

  private async start(component: SystemComponent, trigger: UpgradeTrigger): Promise<void> {
    const log = this.deps.log.child({ componentType: component.type, trigger });
    const fields = fieldsOf(component);
    const ref = await this.deps.client.systemComponentRefs.get(component.type);
    const eligibility = assessUpgrade(fields, ref, trigger);
    if (!eligibility.eligible) {
      log.info({ reason: eligibility.reason }, 'component not eligible for an upgrade');
      if (eligibility.record) await this.save(component.id, ineligibleComponent(fields, eligibility.reason));
      return;
    }
    const target = eligibility.ref;
    const [head, ...tail] = planUpgradeWorkflows(fields, target);
    try {
      const first = await this.deps.client.workflows.create(head);
      const rest: string[] = [];
      for (const workflow of tail) rest.push(await this.deps.client.workflows.create(workflow));
      await this.save(component.id, upgradingComponent(fields, target, [first, ...rest], this.deps.now()));
      await this.execute(first);
      log.info({ workflows: [first, ...rest], target: target.source_repo_git_ref }, 'upgrade started');
    } catch (err) {
      // Reference §8.3: a failed start ends `upgrade_failed` with the reason, for an operator to see and retry.
      log.warn({ err }, 'upgrade could not be started');
      const current = (await this.deps.client.systemComponents.get(component.id)) ?? component;
      await this.save(component.id, failedUpgrade(fieldsOf(current), `the upgrade could not be started: ${errorText(err)}`));
    }
  }

  /** One monitoring step of a component, re-read under the type's turn. */
  private async follow(id: number): Promise<void> {
    const component = await this.deps.client.systemComponents.get(id);
    if (component?.status !== 'upgrade_in_progress') return;
    const fields = fieldsOf(component);
    const parsed = UpgradeStatusSchema.safeParse(component.upgrade_status);
    if (!parsed.success) {
      const error = new UpgradeStatusError(component.type, parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`));
      await this.save(id, failedUpgrade(fields, error.message));
      return;
    }
    const status = parsed.data;
    const found = await Promise.all(status.workflows.map((wid) => this.deps.client.workflows.get(wid)));
    const decision = decideUpgradeProgress(status.workflows, found.filter((w) => w !== undefined));
    if (decision.type === 'execute') await this.execute(decision.workflowId);
    const next = componentAfter(fields, status, decision);
    if (next !== undefined) await this.save(id, next);
    if (decision.type === 'completed' || decision.type === 'failed') this.deps.log.info({ componentType: component.type, decision }, `upgrade ${decision.type}`);
  }

  /** A 409 means the workflow was already queued or started (by an earlier pass, or by hand): that is what was wanted. */
  private async execute(workflowId: string): Promise<void> {
    const outcome = await this.deps.client.workflows.execute(workflowId);
    if (!outcome.queued) this.deps.log.info({ workflowId, reason: outcome.reason }, 'upgrade workflow already started');
  }

  private save(id: number, component: ComponentFields): Promise<void> {
    return this.deps.client.systemComponents.update(id, inputOf(component));
  }
}
