/** The Notifications component's protocol (reference §9.1): chat and e-mail requests, as the original shaped them. */
import { z } from 'zod';

export const NOTIFICATIONS_CHAT_QUEUE = 'notifications_hipchat';
export const NOTIFICATIONS_EMAIL_QUEUE = 'notifications_email';

export const CHAT_REQUESTED = 'notifications.chat_requested';
export const EMAIL_REQUESTED = 'notifications.email_requested';

/** A chat message: green when `is_success`, red (and pinging the room) otherwise; the default room when no rooms. */
export const ChatRequested = z.object({
  is_success: z.boolean(),
  prefix: z.string(),
  message: z.string(),
  room_names: z.array(z.string().min(1)).nullable().optional(),
});
export type ChatRequested = z.infer<typeof ChatRequested>;

/** An e-mail: `prefix` is the subject, `message` the plain-text body. */
export const EmailRequested = z.object({
  prefix: z.string(),
  message: z.string(),
  notifications: z.object({ email_addresses: z.array(z.string()) }),
});
export type EmailRequested = z.infer<typeof EmailRequested>;

/**
 * The message id of a workflow's completion e-mail: one per workflow, so that Notifications drops a second send of it
 * as it drops a redelivered copy (the orchestrator's final transition run again after a lost acknowledgement).
 */
export const completionEmailId = (workflowId: string): string => `workflow-completed-email/${workflowId}`;
