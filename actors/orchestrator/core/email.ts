import type { EmailRequested } from '../../notifications/messages.js';
import type { OrchestrationRequest } from '../messages.js';

/**
 * The workflow completion e-mail (reference §9.3): sent when `notifications_config.email.events.on_workflow_completed`
 * names recipients, each an address or a group of `email.groups`; the subject says SUCCEEDED or FAILED.
 */

const recordOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
const stringsOf = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []);

/** The addresses of `on_workflow_completed`, groups expanded, each once, in order. */
export function completionRecipients(config: OrchestrationRequest['notifications_config']): string[] {
  const email = recordOf(config?.['email']);
  const events = recordOf(email?.['events']);
  const groups = recordOf(email?.['groups']) ?? {};
  const entries = stringsOf(events?.['on_workflow_completed']);
  const expanded = entries.flatMap((entry) => (Object.hasOwn(groups, entry) ? stringsOf(groups[entry]) : [entry]));
  return [...new Set(expanded)];
}

function bodyOf(r: OrchestrationRequest, uiUrl: string | undefined): string {
  const what =
    r.source_repo && r.source_repo_git_ref
      ? `Source Commit:\n${r.source_repo}/commit/${r.source_repo_git_ref}`
      : r.source_repo
        ? `Source Repo:\n${r.source_repo}`
        : `Deployment Repo:\nhttps://github.com/${r.deployment_repo ?? ''}`;
  // Without UI_URL there is no page to point at; the original linked a relative path nobody could open.
  if (uiUrl === undefined || uiUrl === '') return what;
  return `${what}\n\nFor more information, please see:\n${uiUrl.replace(/\/+$/, '')}/index.html#/oa/workflows/workflows/${r.id}`;
}

/** The e-mail of a finished workflow, or undefined when nobody asked for one. */
export function completionEmail(r: OrchestrationRequest, prefix: string, uiUrl: string | undefined): EmailRequested | undefined {
  const recipients = completionRecipients(r.notifications_config);
  if (recipients.length === 0) return undefined;
  const subject = r.workflow_error ? `FAILED - ${prefix}` : `SUCCEEDED ${prefix}`;
  return { prefix: subject, message: bodyOf(r, uiUrl), notifications: { email_addresses: recipients } };
}
