/**
 * Whether a system component may be upgraded now (reference §8.3), rule by rule, and the component as saved when it
 * may not. Two deliberate differences from the original (reference §10.1 item 13): an ineligible component keeps its
 * source repo and ref (the original overwrote them with the ref's, as if upgraded), and a component whose strategy is
 * `manual` is upgraded on an explicit request; only the hourly timer leaves it alone.
 */
import type { ComponentFields, ComponentRefFields } from './component.js';

/** Who asks: an operator (`POST /system_components/:id/upgrade`) or the hourly timer. */
export type UpgradeTrigger = 'requested' | 'scheduled';

export type Eligibility =
  | { readonly eligible: true; readonly ref: ComponentRefFields }
  /** `record`: whether the component is saved as `ineligible_for_upgrade` with the reason. */
  | { readonly eligible: false; readonly reason: string; readonly record: boolean };

const refuse = (reason: string, record = true): Eligibility => ({ eligible: false, reason, record });
const blank = (s: string | null | undefined): boolean => s === null || s === undefined || s.trim() === '';

/** The rules in the original's order; the first that applies is the reason. */
export function assessUpgrade(component: ComponentFields, ref: ComponentRefFields | undefined, trigger: UpgradeTrigger): Eligibility {
  if (ref === undefined) return refuse(`no system component ref exists for type ${component.type}`);
  // An upgrade under way is not disturbed: saving `ineligible_for_upgrade` would end its monitoring.
  if (component.status === 'upgrade_in_progress') return refuse('an upgrade is already in progress', false);
  if (component.upgrade_strategy !== 'hourly' && trigger === 'scheduled') {
    return refuse(`upgrade strategy ${component.upgrade_strategy} is not upgraded on a schedule`, false);
  }
  if (blank(component.deployment_repo) || blank(component.deployment_repo_git_ref)) return refuse('the component has no deployment repo or ref');
  if (ref.auto_upgrade_enabled !== true) return refuse(`automatic upgrades are disabled for type ${component.type}`);
  if (blank(ref.source_repo) || blank(ref.source_repo_git_ref)) return refuse(`the ref of type ${component.type} has no source repo or ref`);
  if (component.source_repo === ref.source_repo && component.source_repo_git_ref === ref.source_repo_git_ref) {
    // On the timer this is the steady state, not news: only an operator who asked is told.
    return refuse('the component is already running the latest version', trigger === 'requested');
  }
  return { eligible: true, ref };
}

/** The component saved as ineligible: status and reason only, its repos untouched (reference §10.1 item 13, fixed). */
export function ineligibleComponent(component: ComponentFields, reason: string): ComponentFields {
  return { ...component, status: 'ineligible_for_upgrade', upgrade_status: { failure_reason: reason } };
}
