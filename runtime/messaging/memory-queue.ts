/** One queue of the in-memory broker (design §5.5): messages in order, competing consumers, asynchronous delivery. */
import type { MessageProperties } from './core/delivery.js';

/** A message as the broker holds it: the bytes that would travel over AMQP, plus what AMQP keeps beside them. */
export interface StoredMessage {
  readonly body: Buffer;
  readonly redelivered: boolean;
  readonly properties: MessageProperties;
}

/** A consumer attached to a queue. `take` starts a delivery and must not throw. */
export interface QueueConsumer {
  hasRoom(): boolean;
  take(message: StoredMessage): void;
}

/**
 * FIFO of messages served round-robin to the consumers that have room. Delivery happens on a later turn of the event
 * loop (never inside the publisher's call stack) and only when something changed: a message arrived, a consumer
 * attached, or a consumer got room back. Nothing polls.
 */
export class MemoryQueue {
  readonly #messages: StoredMessage[] = [];
  readonly #consumers: QueueConsumer[] = [];
  #next = 0;
  #scheduled = false;

  get depth(): number {
    return this.#messages.length;
  }

  enqueue(message: StoredMessage): void {
    this.#messages.push(message);
    this.schedule();
  }

  /** Back at the head: RabbitMQ puts a requeued message back at (or near) its original position. */
  requeue(message: StoredMessage): void {
    this.#messages.unshift(message);
    this.schedule();
  }

  /** Removes and returns every message waiting, oldest first. */
  takeAll(): StoredMessage[] {
    return this.#messages.splice(0);
  }

  attach(consumer: QueueConsumer): void {
    this.#consumers.push(consumer);
    this.schedule();
  }

  detach(consumer: QueueConsumer): void {
    const at = this.#consumers.indexOf(consumer);
    if (at >= 0) this.#consumers.splice(at, 1);
  }

  /** Arranges one dispatch on the next turn of the event loop, if there is anything to dispatch. */
  schedule(): void {
    if (this.#scheduled || this.#messages.length === 0 || this.#consumers.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    for (;;) {
      if (this.#messages.length === 0) return;
      const consumer = this.#nextWithRoom();
      if (consumer === undefined) return; // each consumer calls schedule() again when it gets room back
      const message = this.#messages.shift();
      if (message === undefined) return;
      consumer.take(message);
    }
  }

  #nextWithRoom(): QueueConsumer | undefined {
    const count = this.#consumers.length;
    for (let i = 0; i < count; i++) {
      const at = (this.#next + i) % count;
      const consumer = this.#consumers[at];
      if (consumer?.hasRoom()) {
        this.#next = (at + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }
}
