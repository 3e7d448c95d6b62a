import { withArticle, type ActionDescriptor, type ActionKind } from '../actions/action.js';
import { needsValidation, validateAction } from '../actions/action-validation.js';
import type { ResolvedActionValidationOptions } from '../actions/action-validation-options.js';
import { GomesError } from '../errors/gomes-error.js';
import { ActionEnvelope, type EnvelopeDescriptor } from './action-envelope.js';
import type { BusTransport } from './bus-transport.js';
import { withInheritedCausation } from './causation-scope.js';
import type { SendActionOptions } from './send-action-options.js';

/** What every bus needs from its gomes instance. @internal */
export interface ActionBusDependencies {
  readonly transport: BusTransport;
  readonly describe: (action: object) => ActionDescriptor;
  readonly validate: boolean;
  readonly validation: ResolvedActionValidationOptions;
  /** `origin` of the messages sent, unless a send gives one. */
  readonly origin: string;
}

/** Options of a call made without any. @internal */
export const NO_SEND_OPTIONS: SendActionOptions = Object.freeze({});

/**
 * Shared mechanics of the command, query and event buses: checks the action kind, validates the
 * action (nothing is sent when invalid; see `validateAction` for what is sent: the action, or its
 * copy with nested classes restored and the whitelist applied), wraps it in its
 * {@link ActionEnvelope} (inside a handler, with the ids it inherits) and hands it to the
 * transport. The methods are not `async` on purpose: the promise a caller awaits is the transport's
 * (in process: the handler's own), without an extra hop per layer; a synchronous failure still
 * becomes a rejection.
 *
 * @internal
 */
export abstract class ActionBus {
  readonly #kind: ActionKind;
  readonly #deps: ActionBusDependencies;
  #lastClass: unknown;
  #lastDescriptor: ActionDescriptor | undefined;

  protected constructor(kind: ActionKind, deps: ActionBusDependencies) {
    this.#kind = kind;
    this.#deps = deps;
  }

  /** The channel this bus sends to, or `undefined` for the in-process bus. */
  get channelName(): string | undefined {
    return this.#deps.transport.channelName;
  }

  /** Sends `action` and resolves to the handler's result. */
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  protected request(action: object, options: SendActionOptions): Promise<unknown> {
    try {
      const descriptor = this.#describe(action);
      if (this.#deps.validate && needsValidation(action)) {
        return validateAction(action, descriptor.name, this.#deps.validation).then(async (payload) =>
          this.#deps.transport.request(this.#envelope(payload, descriptor, options, true), options),
        );
      }
      return this.#deps.transport.request(
        this.#envelope(action, descriptor, options, this.#deps.validate),
        options,
      );
    } catch (error) {
      // Rejects with what was thrown, as an `async` function would.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /**
   * Sends `action` and resolves to its `messageId`: once the handlers finished (`waitForHandlers`,
   * the in-process event bus) or once the transport accepted it.
   */
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  protected post(action: object, options: SendActionOptions, waitForHandlers: boolean): Promise<string> {
    try {
      const descriptor = this.#describe(action);
      if (this.#deps.validate && needsValidation(action)) {
        return validateAction(action, descriptor.name, this.#deps.validation).then(async (payload) =>
          this.#post(this.#envelope(payload, descriptor, options, true), options, waitForHandlers),
        );
      }
      return this.#post(
        this.#envelope(action, descriptor, options, this.#deps.validate),
        options,
        waitForHandlers,
      );
    } catch (error) {
      // Rejects with what was thrown, as an `async` function would.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** A raw send (no class, no validation) resolving to the handler's result. */
  protected async requestRaw(route: string, payload: unknown, options: SendActionOptions): Promise<unknown> {
    return this.#deps.transport.request(this.#rawEnvelope(route, payload, options), options);
  }

  /** A raw send resolving to its `messageId` (see {@link ActionBus.post}). */
  protected async postRaw(
    route: string,
    payload: unknown,
    options: SendActionOptions,
    waitForHandlers: boolean,
  ): Promise<string> {
    return this.#post(this.#rawEnvelope(route, payload, options), options, waitForHandlers);
  }

  // eslint-disable-next-line @typescript-eslint/promise-function-async
  #post(envelope: ActionEnvelope, options: SendActionOptions, waitForHandlers: boolean): Promise<string> {
    const { transport } = this.#deps;
    const sent = waitForHandlers ? transport.request(envelope, options) : transport.post(envelope, options);
    return sent.then(() => envelope.messageId);
  }

  #describe(action: object): ActionDescriptor {
    // One-entry memo: a bus usually sends one class after another (decorator metadata never
    // changes once a class is defined, so a class always has the same descriptor).
    const ctor: unknown = action.constructor;
    let descriptor = ctor === this.#lastClass ? this.#lastDescriptor : undefined;
    if (descriptor === undefined) {
      descriptor = this.#deps.describe(action);
      this.#lastClass = ctor;
      this.#lastDescriptor = descriptor;
    }
    if (descriptor.kind !== this.#kind) {
      throw new GomesError(
        'CONFIGURATION',
        `"${descriptor.name}" is ${withArticle(descriptor.kind)}; send it through the ${descriptor.kind} bus, not the ${this.#kind} bus`,
      );
    }
    return descriptor;
  }

  #rawEnvelope(route: string, payload: unknown, options: SendActionOptions): ActionEnvelope {
    if (!route) throw new GomesError('CONFIGURATION', 'A raw send needs a non-empty route');
    return this.#envelope(payload, { kind: this.#kind, name: route, version: undefined }, options, false);
  }

  /**
   * `validated`: `payload` is what the bus validated (or found nothing to validate, validation
   * being on). Inside a handler, the envelope takes the ids the call inherits.
   */
  #envelope(
    payload: unknown,
    descriptor: EnvelopeDescriptor,
    options: SendActionOptions,
    validated: boolean,
  ): ActionEnvelope {
    return new ActionEnvelope(
      payload,
      descriptor,
      withInheritedCausation(options),
      this.#deps.transport,
      this.#deps.origin,
      validated,
    );
  }
}
