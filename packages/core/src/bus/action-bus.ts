import { withArticle, type ActionDescriptor, type ActionKind } from '../actions/action.js';
import { needsValidation, validateAction } from '../actions/action-validation.js';
import type { ResolvedActionValidationOptions } from '../actions/action-validation-options.js';
import { GomesError } from '../errors/gomes-error.js';
import { buildActionMessage } from './action-message-factory.js';
import type { BusTransport } from './bus-transport.js';
import { withInheritedCausation } from './causation-scope.js';
import type { SendActionOptions } from './send-action-options.js';

/** What a bus call produced. @internal */
export interface BusOutcome {
  /** Id of the message sent. */
  readonly messageId: string;
  /** The handler's result, when the call waited for it. */
  readonly result: unknown;
}

/** What every bus needs from its gomes instance. @internal */
export interface ActionBusDependencies {
  readonly transport: BusTransport;
  readonly describe: (action: object) => ActionDescriptor;
  readonly validate: boolean;
  readonly validation: ResolvedActionValidationOptions;
  /** `origin` of the messages sent, unless a send gives one. */
  readonly origin: string;
}

/**
 * Shared mechanics of the command, query and event buses: checks the action kind, validates the
 * action (nothing is sent when invalid; see `validateAction` for what is sent) and builds its
 * message.
 *
 * @internal
 */
export abstract class ActionBus {
  readonly #kind: ActionKind;
  readonly #deps: ActionBusDependencies;

  protected constructor(kind: ActionKind, deps: ActionBusDependencies) {
    this.#kind = kind;
    this.#deps = deps;
  }

  /** The channel this bus sends to, or `undefined` for the in-process bus. */
  get channelName(): string | undefined {
    return this.#deps.transport.channelName;
  }

  /** Sends; `result` is the handler's result when `waitForResult`. */
  protected async dispatch(
    action: object,
    options: SendActionOptions,
    waitForResult: boolean,
  ): Promise<BusOutcome> {
    const descriptor = this.#deps.describe(action);
    if (descriptor.kind !== this.#kind) {
      throw new GomesError(
        'CONFIGURATION',
        `"${descriptor.name}" is ${withArticle(descriptor.kind)}; send it through the ${descriptor.kind} bus, not the ${this.#kind} bus`,
      );
    }
    // What is sent: the action, or the validated copy (nested classes restored, whitelist applied).
    const payload =
      this.#deps.validate && needsValidation(action)
        ? await validateAction(action, descriptor.name, this.#deps.validation)
        : action;
    return this.#send(payload, descriptor, options, waitForResult);
  }

  protected async dispatchRaw(
    route: string,
    payload: unknown,
    options: SendActionOptions,
    waitForResult: boolean,
  ): Promise<BusOutcome> {
    if (!route) throw new GomesError('CONFIGURATION', 'A raw send needs a non-empty route');
    return this.#send(payload, { kind: this.#kind, name: route, version: undefined }, options, waitForResult);
  }

  async #send(
    payload: unknown,
    descriptor: Pick<ActionDescriptor, 'kind' | 'name' | 'version' | 'subject'>,
    sendOptions: SendActionOptions,
    waitForResult: boolean,
  ): Promise<BusOutcome> {
    const { transport } = this.#deps;
    const options = withInheritedCausation(sendOptions);
    const message = buildActionMessage(
      payload,
      descriptor,
      options,
      transport.channelName,
      transport.replyTo,
      transport.replyInstanceId,
      this.#deps.origin,
    );
    if (waitForResult)
      return { messageId: message.messageId, result: await transport.request(message, options) };
    await transport.post(message, options);
    return { messageId: message.messageId, result: undefined };
  }
}
