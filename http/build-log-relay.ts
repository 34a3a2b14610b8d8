/** The live build logs of one Manager instance (reference §4.8): fed by its `build_logs` intake, read by the streams. */
import type { BuildLogs } from '../actors/builder/messages.js';

export interface Subscriber {
  readonly send: (logs: readonly string[]) => void;
  readonly close: () => void;
}

/** One Manager instance's relay: the live subscribers by workflow id. */
export interface BuildLogRelay {
  /** Until the returned function is called; `close` is called if the relay stops first. */
  subscribe(workflowId: string, subscriber: Subscriber): () => void;
  /** A batch of a workflow's build log, to each of its subscribers. */
  relay(batch: BuildLogs): void;
  /** Ends every subscriber's stream (they would hold the server open). */
  close(): void;
}

export function buildLogRelay(): BuildLogRelay {
  const subscribers = new Map<string, Set<Subscriber>>();
  return {
    subscribe(workflowId, subscriber) {
      const set = subscribers.get(workflowId) ?? new Set<Subscriber>();
      subscribers.set(workflowId, set.add(subscriber));
      return () => {
        set.delete(subscriber);
        if (set.size === 0 && subscribers.get(workflowId) === set) subscribers.delete(workflowId);
      };
    },
    relay({ workflow_id, logs }) {
      for (const s of subscribers.get(workflow_id) ?? []) s.send(logs);
    },
    close() {
      for (const set of subscribers.values()) for (const s of set) s.close();
      subscribers.clear();
    },
  };
}
