import { publishKeyFor, type ExchangeRoute } from './routing.js';

/** What must exist on a broker for a queue of an exchange to receive messages (reference §4.3, design §2). */
export interface QueueDeclarations {
  /** The root exchange: topic, durable. */
  readonly exchange: { readonly name: string; readonly type: 'topic'; readonly durable: true };
  readonly queue: {
    readonly name: string;
    readonly durable: true;
    /** Rejected messages go to `<queue>_error` through the default exchange (reference §4.3). */
    readonly arguments: { readonly 'x-dead-letter-exchange': ''; readonly 'x-dead-letter-routing-key': string };
  };
  readonly errorQueue: { readonly name: string; readonly durable: true };
  /** The queue is bound to the root exchange with the full key `<routing_key>.<queue>` (reference §4.1). */
  readonly binding: { readonly exchange: string; readonly queue: string; readonly key: string };
}

export function planQueueDeclarations(route: ExchangeRoute, queue: string, errorQueue: string): QueueDeclarations {
  return {
    exchange: { name: route.rootExchangeName, type: 'topic', durable: true },
    queue: {
      name: queue,
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': errorQueue },
    },
    errorQueue: { name: errorQueue, durable: true },
    binding: { exchange: route.rootExchangeName, queue, key: publishKeyFor(route.routingKey, queue) },
  };
}
