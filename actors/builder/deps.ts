/** What the Builder's steps reach: its arguments, messaging, the Manager, git, Docker hosts, and the clock and dice. */
import type { ManagerExchanges } from './build-logs.js';
import type { BuilderArgs } from './config.js';
import type { ManagerClient } from '../../http/client/manager-client.js';
import type { GitProcess } from '../../runtime/git/git-process.js';
import type { Logger } from '../../runtime/logger.js';
import type { Messaging } from '../../runtime/messaging/transport.js';

export interface BuilderDeps {
  readonly args: BuilderArgs;
  readonly transport: Pick<Messaging, 'publish'>;
  readonly manager: Pick<ManagerClient, 'workflows' | 'clusters' | 'systemComponents'>;
  readonly log: Logger;
  readonly exchanges: ManagerExchanges;
  readonly git: Pick<GitProcess, 'cloneRepo'>;
  readonly hostname: string;
  readonly now: () => Date;
  readonly random: () => number;
}
