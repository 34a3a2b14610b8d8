/** The Overseer's protocol (reference §8, §10A): upgrade requests on `overseer`; heartbeats arrive on `system_modules`. */
import { z } from 'zod';

export const OVERSEER_QUEUE = 'overseer';
export const UPGRADE_REQUESTED = 'system_component.upgrade_requested';

/** `{"action":"upgrade_request","options":{"component_type":"builder"}}` (reference §10A). */
export const UpgradeRequested = z.object({
  action: z.literal('upgrade_request'),
  options: z.object({ component_type: z.string().min(1) }),
});
export type UpgradeRequested = z.infer<typeof UpgradeRequested>;
