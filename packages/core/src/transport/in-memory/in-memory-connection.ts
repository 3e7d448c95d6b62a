import type { ChannelConnection, ChannelConnectionState } from '../../channel/channel-connection.js';
import type { ExistingTopic, TopicAdmin } from '../../topics/topic-provisioning.js';
import {
  InMemoryBroker,
  resolveInMemoryBrokerOptions,
  type InMemoryBrokerOptions,
} from './in-memory-broker.js';

/** The `transport` identity of in-memory connections. @public */
export const IN_MEMORY_TRANSPORT = 'gomes:in-memory';

/** Options of {@link InMemoryConnection}. @public */
export interface InMemoryConnectionOptions {
  /** Broker to use, e.g. one shared by several gomes instances. @default a new broker of its own */
  broker?: InMemoryBroker;
  /** Options of the broker it creates (ignored when `broker` is given). */
  brokerOptions?: Partial<InMemoryBrokerOptions>;
}

/**
 * A connection to an {@link InMemoryBroker}: the embedded default transport. Connecting cannot
 * fail; disconnecting keeps the broker's data (so consumers can restart and get redeliveries).
 *
 * @example
 * ```ts
 * const broker = new InMemoryBroker();
 * gomes.addChannelConnection(new InMemoryConnection('memory', { broker }));
 * ```
 * @public
 */
export class InMemoryConnection implements ChannelConnection {
  /** @inheritDoc */
  readonly name: string;
  /** Transport identity, checked by the in-memory builders' `acceptsConnection`. */
  readonly transport = IN_MEMORY_TRANSPORT;
  readonly #brokerOptions: Partial<InMemoryBrokerOptions> | undefined;
  #broker: InMemoryBroker | undefined;
  #connected = false;

  constructor(name: string, options: InMemoryConnectionOptions = {}) {
    this.name = name;
    this.#broker = options.broker;
    this.#brokerOptions = options.broker ? undefined : options.brokerOptions;
  }

  /** The broker (created on first use when none was given). */
  get broker(): InMemoryBroker {
    return (this.#broker ??= new InMemoryBroker(this.#brokerOptions));
  }

  /** Whether `connect()` was called and `disconnect()` was not since. */
  get connected(): boolean {
    return this.#connected;
  }

  /** `connected` between `connect()` and `disconnect()`, else `disconnected` (it cannot fail). */
  get state(): ChannelConnectionState {
    return this.#connected ? 'connected' : 'disconnected';
  }

  /** @inheritDoc */
  validate(): string[] {
    const problems: string[] = [];
    if (!this.name) problems.push('an in-memory connection needs a non-empty name');
    if (this.#brokerOptions) {
      problems.push(
        ...resolveInMemoryBrokerOptions(this.#brokerOptions).problems.map(
          (p) => `connection "${this.name}": ${p}`,
        ),
      );
    }
    return problems;
  }

  /** @inheritDoc */
  async connect(): Promise<void> {
    void this.broker;
    this.#connected = true;
    return Promise.resolve();
  }

  /** @inheritDoc */
  async disconnect(): Promise<void> {
    this.#connected = false;
    return Promise.resolve();
  }

  /**
   * Topic administration for `gomes.addTopics`: declared topics are created on the broker with
   * their partition count. The in-memory broker keeps every record and has no replicas, so no
   * topic config (`cleanup.policy`, `retention.ms`, …) and no replication factor is applied: the
   * provisioning report lists them as not applied. An existing topic with another partition count
   * is reported as a mismatch.
   */
  topicAdmin(): TopicAdmin {
    const broker = this.broker;
    return {
      unsupportedSettings: ['replication.factor', '*'],
      describeTopics: async (names) => {
        const found = new Map<string, ExistingTopic>();
        for (const name of names) {
          if (broker.hasTopic(name)) {
            found.set(name, {
              partitions: broker.partitionCount(name),
              replicationFactor: undefined,
              configs: {},
            });
          }
        }
        return Promise.resolve(found);
      },
      createTopics: async (topics) => {
        for (const t of topics) broker.createTopic(t.name, t.partitions);
        return Promise.resolve();
      },
    };
  }
}

/**
 * Whether `connection` is an in-memory connection. A structural check on `transport`, so it works
 * across duplicate copies of the package.
 *
 * @public
 */
export function isInMemoryConnection(connection: ChannelConnection): connection is InMemoryConnection {
  return (connection as Partial<InMemoryConnection>).transport === IN_MEMORY_TRANSPORT;
}

/** Shorthand for `new InMemoryConnection(name, options)`. @public */
export function inMemoryConnection(
  name: string,
  options: InMemoryConnectionOptions = {},
): InMemoryConnection {
  return new InMemoryConnection(name, options);
}
