import { z } from 'zod';
import type { WorkerMilestone } from './core/dispatch.js';
import { managerAccessFromEnv, MessagingEnv, parseEnv, type ManagerAccess } from '../../runtime/config.js';

/** The orchestrator's configuration (reference §1.6; issue 5 item 4), read once from the environment (style R19). */

const seconds = (fallback: number) =>
  z.coerce.number<string>({ error: 'expected a number of seconds' }).int('expected whole seconds').positive('expected seconds above 0').max(30 * 24 * 3_600).default(fallback);

export const OrchestratorEnv = z.object({
  /** Linked from the completion e-mail (reference §9.3). */
  UI_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  OA_MILESTONE_TIMEOUT_CONFIG_S: seconds(10 * 60),
  OA_MILESTONE_TIMEOUT_BUILD_S: seconds(60 * 60),
  OA_MILESTONE_TIMEOUT_DEPLOY_S: seconds(30 * 60),
  OA_MILESTONE_TIMEOUT_DEPLOY_OA_S: seconds(30 * 60),
});

/** The component's arguments: plain JSON, so a forked orchestrator rebuilds its Manager client from them. */
export interface OrchestratorArgs {
  readonly manager: ManagerAccess;
  readonly exchangeId: number;
  readonly brokerId: number;
  readonly uiUrl?: string;
  readonly timeoutsMs: Readonly<Record<WorkerMilestone, number>>;
}

export function orchestratorArgsFromEnv(env: Readonly<Record<string, string | undefined>>): OrchestratorArgs {
  const { EXCHANGE_ID, BROKER_ID } = parseEnv(MessagingEnv, env);
  const own = parseEnv(OrchestratorEnv, env);
  return {
    manager: managerAccessFromEnv(env),
    exchangeId: EXCHANGE_ID,
    brokerId: BROKER_ID,
    ...(own.UI_URL ? { uiUrl: own.UI_URL } : {}),
    timeoutsMs: {
      config: own.OA_MILESTONE_TIMEOUT_CONFIG_S * 1_000,
      build: own.OA_MILESTONE_TIMEOUT_BUILD_S * 1_000,
      deploy: own.OA_MILESTONE_TIMEOUT_DEPLOY_S * 1_000,
      deploy_oa: own.OA_MILESTONE_TIMEOUT_DEPLOY_OA_S * 1_000,
    },
  };
}
