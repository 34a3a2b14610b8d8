import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { worstCaseMs, type RetryPolicy } from './core/retry.js';
import { NOTIFICATIONS_ASK_TIMEOUT_MS } from './intake.js';
import { ConfigError, parseEnv } from '../../runtime/config.js';

/**
 * The Notifications component's configuration (reference §1.12 names, design §2 HipChat row), read once at the
 * process entry and handed to the actor as plain data (style R19), so a forked component gets the same.
 */

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465, `smtps://`); otherwise STARTTLS whenever the server offers it. */
  readonly secure: boolean;
  /** No login when null. */
  readonly auth: { readonly user: string; readonly pass: string } | null;
  readonly from: string;
  /** PEM of the CA that signed the server's certificate, when it is not a public one. */
  readonly ca: string | null;
}

export type ChatSettings =
  | { readonly driver: 'webhook'; readonly defaultRoom: string | null; readonly webhooks: Readonly<Record<string, string>>; readonly failureMention: string | null }
  | { readonly driver: 'hipchat'; readonly defaultRoom: string | null; readonly baseUrl: string; readonly tokens: readonly string[] }
  /** No chat service configured: messages are written to the log, so none vanishes. */
  | { readonly driver: 'log'; readonly defaultRoom: string | null };

export interface NotificationsArgs {
  /** Null when SMTP_URI is not set: e-mails then dead-letter saying so. */
  readonly email: SmtpSettings | null;
  readonly chat: ChatSettings;
  readonly retry: RetryPolicy;
}

const blankIsUnset = (v: unknown): unknown => (v === '' ? undefined : v);
const text = () => z.preprocess(blankIsUnset, z.string().trim().min(1).optional());
const wholeNumber = (min: number, fallback: number) =>
  z.preprocess(blankIsUnset, z.coerce.number<string>({ error: 'expected a number' }).int('expected a whole number').min(min, `expected a number of at least ${min}`).default(fallback));

const isHttpUrl = (s: string): boolean => {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
};

/** `{"Ops":"https://hooks.slack.com/..."}`: one incoming webhook per room name. Problems name the room, never the URL. */
const WebhookMap = z.string().transform((raw, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object of room name to webhook URL, e.g. {"Ops":"https://..."}' });
    return z.NEVER;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object of room name to webhook URL' });
    return z.NEVER;
  }
  const bad = Object.entries(parsed).filter(([room, url]) => room.trim() === '' || typeof url !== 'string' || !isHttpUrl(url));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `rooms ${bad.map(([room]) => JSON.stringify(room)).join(', ')}: expected a non-empty room name and an http(s) URL` });
    return z.NEVER;
  }
  return parsed as Record<string, string>;
});

/** SMTP_URI: a host name (as the original), or `smtp://host[:port]` / `smtps://host[:port]`. */
const SmtpUri = z.string().transform((raw, ctx) => {
  const value = raw.trim();
  if (/^[A-Za-z0-9.-]+$/.test(value)) return { host: value, port: null, secure: null };
  const url = URL.canParse(value) ? new URL(value) : null;
  if (url === null || !['smtp:', 'smtps:'].includes(url.protocol) || url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'expected a host name, or an smtp:// or smtps:// URL' });
    return z.NEVER;
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? null : Number(url.port), secure: url.protocol === 'smtps:' };
});

export const NotificationsEnv = z
  .object({
    SMTP_URI: z.preprocess(blankIsUnset, SmtpUri.optional()),
    SMTP_PORT: wholeNumber(1, 587).pipe(z.number().max(65_535, 'expected a port number (1-65535)')),
    SMTP_USERNAME: text(),
    SMTP_PASSWORD: z.preprocess(blankIsUnset, z.string().optional()),
    SMTP_FROM: text(),
    SMTP_TLS_CA_FILE: text(),
    HIPCHAT_DEFAULT_ROOM_NAME: text(),
    HIPCHAT_AUTH_TOKENS: text().transform((v) => (v === undefined ? [] : v.split(',').map((t) => t.trim()).filter((t) => t !== ''))),
    HIPCHAT_BASE_URL: z.preprocess(blankIsUnset, z.string().refine(isHttpUrl, 'expected an http(s) URL').default('https://api.hipchat.com')),
    OA_CHAT_DRIVER: z.preprocess(blankIsUnset, z.enum(['webhook', 'hipchat', 'log'], { error: 'expected webhook, hipchat or log' }).optional()),
    OA_CHAT_WEBHOOKS: z.preprocess(blankIsUnset, WebhookMap.optional()),
    OA_CHAT_FAILURE_MENTION: text(),
    OA_NOTIFY_MAX_ATTEMPTS: wholeNumber(1, 4),
    OA_NOTIFY_BACKOFF_MS: wholeNumber(0, 500),
    OA_NOTIFY_BACKOFF_MAX_MS: wholeNumber(0, 4_000),
    OA_NOTIFY_ATTEMPT_TIMEOUT_MS: wholeNumber(1, 5_000),
  })
  .check((ctx) => {
    const env = ctx.value;
    const problem = (variable: string, message: string) => ctx.issues.push({ code: 'custom', path: [variable], message, input: undefined });
    if (env.SMTP_URI && !env.SMTP_FROM) problem('SMTP_FROM', 'required when SMTP_URI is set');
    if (env.SMTP_USERNAME && env.SMTP_PASSWORD === undefined) problem('SMTP_PASSWORD', 'required when SMTP_USERNAME is set');
    if (env.OA_CHAT_DRIVER === 'webhook' && !env.OA_CHAT_WEBHOOKS) problem('OA_CHAT_WEBHOOKS', 'required when OA_CHAT_DRIVER is webhook');
    if (env.OA_CHAT_DRIVER === 'hipchat' && env.HIPCHAT_AUTH_TOKENS.length === 0) problem('HIPCHAT_AUTH_TOKENS', 'required when OA_CHAT_DRIVER is hipchat');
    // A delivery may wait in the actor for one delivery of the other queue (routes.ts).
    const budget = worstCaseMs(retryPolicyOf(env));
    if (2 * budget >= NOTIFICATIONS_ASK_TIMEOUT_MS) {
      problem(
        'OA_NOTIFY_ATTEMPT_TIMEOUT_MS',
        `with OA_NOTIFY_MAX_ATTEMPTS=${env.OA_NOTIFY_MAX_ATTEMPTS} and the backoff, one message may take ${budget} ms; ` +
          `two of them must stay below ${NOTIFICATIONS_ASK_TIMEOUT_MS} ms; lower the attempts or the timeout`,
      );
    }
  });
export type NotificationsEnv = z.infer<typeof NotificationsEnv>;

function retryPolicyOf(env: Pick<NotificationsEnv, 'OA_NOTIFY_MAX_ATTEMPTS' | 'OA_NOTIFY_BACKOFF_MS' | 'OA_NOTIFY_BACKOFF_MAX_MS' | 'OA_NOTIFY_ATTEMPT_TIMEOUT_MS'>): RetryPolicy {
  return {
    maxAttempts: env.OA_NOTIFY_MAX_ATTEMPTS,
    initialBackoffMs: env.OA_NOTIFY_BACKOFF_MS,
    maxBackoffMs: Math.max(env.OA_NOTIFY_BACKOFF_MS, env.OA_NOTIFY_BACKOFF_MAX_MS),
    attemptTimeoutMs: env.OA_NOTIFY_ATTEMPT_TIMEOUT_MS,
  };
}

/** The chat driver: OA_CHAT_DRIVER when set, else HipChat when tokens are given, webhooks when mapped, else the log. */
function chatSettingsOf(env: NotificationsEnv): ChatSettings {
  const defaultRoom = env.HIPCHAT_DEFAULT_ROOM_NAME ?? null;
  const driver = env.OA_CHAT_DRIVER ?? (env.HIPCHAT_AUTH_TOKENS.length > 0 ? 'hipchat' : env.OA_CHAT_WEBHOOKS ? 'webhook' : 'log');
  if (driver === 'hipchat') return { driver, defaultRoom, baseUrl: env.HIPCHAT_BASE_URL.replace(/\/+$/, ''), tokens: env.HIPCHAT_AUTH_TOKENS };
  if (driver === 'webhook') return { driver, defaultRoom, webhooks: env.OA_CHAT_WEBHOOKS ?? {}, failureMention: env.OA_CHAT_FAILURE_MENTION ?? null };
  return { driver, defaultRoom };
}

async function caOf(file: string | undefined): Promise<string | null> {
  if (file === undefined) return null;
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`SMTP_TLS_CA_FILE: cannot read it: ${(err as Error).message} (got ${JSON.stringify(file)})`]);
  }
}

async function smtpSettingsOf(env: NotificationsEnv): Promise<SmtpSettings | null> {
  const uri = env.SMTP_URI;
  if (uri === undefined) return null;
  const port = uri.port ?? env.SMTP_PORT;
  return {
    host: uri.host,
    port,
    secure: uri.secure ?? port === 465,
    auth: env.SMTP_USERNAME ? { user: env.SMTP_USERNAME, pass: env.SMTP_PASSWORD ?? '' } : null,
    from: env.SMTP_FROM ?? '',
    ca: await caOf(env.SMTP_TLS_CA_FILE),
  };
}

/** The component's arguments from the environment; a bad variable stops the process with its name. */
export async function notificationsArgsFromEnv(given: Readonly<Record<string, string | undefined>>): Promise<NotificationsArgs> {
  const env = parseEnv(NotificationsEnv, given);
  return { email: await smtpSettingsOf(env), chat: chatSettingsOf(env), retry: retryPolicyOf(env) };
}
