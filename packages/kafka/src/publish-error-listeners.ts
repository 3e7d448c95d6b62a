import type { GomesError, Logger } from '@gomes/core';
import { rootMessage } from './kafka-errors.js';
import type { KafkaPublishErrorListener } from './kafka-publisher-stats.js';

/**
 * The async-mode failure listeners of a {@link KafkaPublisherChannel}: every failure is logged, then
 * handed to each listener; a listener that throws is logged and does not stop the others.
 *
 * @internal
 */
export class PublishErrorListeners {
  readonly #listeners = new Set<KafkaPublishErrorListener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds `listener`; returns a function that removes it. */
  add(listener: KafkaPublishErrorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  report(error: GomesError): void {
    this.#logger.error('Async Kafka publish failed', {
      code: error.code,
      reason: error.message,
      ...error.details,
    });
    for (const listener of this.#listeners) {
      try {
        listener(error);
      } catch (listenerError) {
        this.#logger.error('Publish error listener threw', { reason: rootMessage(listenerError) });
      }
    }
  }
}
