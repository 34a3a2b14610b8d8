import type { ManagerClient } from '../../http/client/manager-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Messaging } from '../../runtime/messaging/transport.js';
import type { OverseerArgs } from './config.js';

/** What the Overseer's passes work with: its Manager client, its messaging, its exchange, and the clock. */
export interface OverseerDeps {
  readonly args: OverseerArgs;
  readonly client: ManagerClient;
  readonly transport: Messaging;
  readonly log: Logger;
  readonly now: () => Date;
  /** In [0, 1): where in the window an hourly upgrade falls. */
  readonly random: () => number;
}
