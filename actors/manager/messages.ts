import type { ManagerConfig } from '../../http/manager-config.js';
import type { KeyPairPem } from '../../http/secrets.js';
import type { MessagingMetadata } from '../../runtime/messaging/core/routing.js';

/** The Manager component's protocol: other components talk to it over REST, so this is only for the runtime. */
export type ManagerProtocol = {
  /** Where the API listens. */
  status: { msg: void; reply: { url: string } };
  /** Its messaging tables, passwords opened: the messaging metadata of its own process (issue 19 item 1). */
  messaging_metadata: { msg: void; reply: MessagingMetadata };
};

/** What the Manager starts from: plain data, so it can run forked. */
export interface ManagerArgs {
  readonly config: ManagerConfig;
  /** The key pair that seals secrets at rest (design §2). */
  readonly keys: KeyPairPem;
  /** EXCHANGE_ID and BROKER_ID of the Manager's process. */
  readonly exchangeId: number;
  readonly brokerId: number;
  readonly uiUrl?: string;
  /**
   * First start of the embedded default: create the first exchange, broker, cluster with the local Docker host,
   * component refs and admin client (design §2). Otherwise only the admin client, when there is none.
   */
  readonly bootstrap?: { readonly amqpUrl?: string; readonly dockerUrl?: string };
  /** The API client the platform's components use (actors/manager/setup.ts), made to exist at start. */
  readonly platformClient?: { readonly clientId: string; readonly clientSecret: string };
}
