/** Why a milestone failed, in words a person can act on (issue 6 item 6). */
import type { Parsed } from './core/repo-files.js';

/** An expected failure: bad input, a refusal, a cancellation. Its message is the milestone's failure reason as is. */
export class MilestoneFailure extends Error {
  override readonly name = 'MilestoneFailure';
}

/** The value, or a MilestoneFailure with the reason. */
export function orFail<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new MilestoneFailure(parsed.reason);
  return parsed.value;
}

/** Errors of git, Docker hosts, registries and the Manager already say what and where; anything else is prefixed. */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return `unexpected failure: ${String(err)}`;
  const known = ['MilestoneFailure', 'GitError', 'DockerHostError', 'RegistryError', 'ManagerApiError', 'ManagerUnavailableError', 'ManagerResponseError'];
  return known.includes(err.name) ? err.message : `unexpected failure: ${err.message}`;
}
