import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';

/** Receives errors that have no caller to reject (async sends, consumer crashes). @public */
export type UnhandledErrorListener = (error: Error, message?: Message) => void;

/** The `onUnhandledError` listeners of a gomes instance. @internal */
export class UnhandledErrors {
  readonly #listeners = new Set<UnhandledErrorListener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds `listener`; returns what removes it. */
  add(listener: UnhandledErrorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener; a listener that throws is logged and does not stop the others. */
  emit(error: Error, message?: Message): void {
    for (const listener of this.#listeners) {
      try {
        listener(error, message);
      } catch (listenerError) {
        this.#logger.error('onUnhandledError listener threw', {
          errorMessage: toError(listenerError).message,
          reportedError: error.message,
          messageId: message?.messageId,
        });
      }
    }
  }
}
