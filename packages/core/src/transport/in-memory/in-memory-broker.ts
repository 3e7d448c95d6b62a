import { ConfigurationError } from '../../errors/configuration-error.js';
import { resolveOptions } from '../../internal/resolve-options.js';
import { GomesError } from '../../errors/gomes-error.js';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  CloudEventsHeaders,
  GOMES_ENVELOPE,
  cloudEventsBinaryHeaders,
  cloudEventsModeOf,
  decodeStructuredCloudEvent,
  encodeStructuredCloudEvent,
  fromCloudEventsBinaryHeaders,
  type MessageEnvelope,
} from '../../message/cloudevents.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import {
  ConsumerGroupState,
  type GroupMemberListener,
  type GroupMembership,
} from './in-memory-consumer-group.js';
import { partitionKeyOf } from '../../message/message-headers.js';
import { partitionForKey } from './partition-key.js';

/** Options of {@link InMemoryBroker}. @public */
export interface InMemoryBrokerOptions {
  /** Partitions of topics created implicitly (by a publish or a consumer). @default 1 */
  defaultPartitions: number;
}

/** Defaults of {@link InMemoryBrokerOptions}. @public */
export const DEFAULT_IN_MEMORY_BROKER_OPTIONS: Readonly<InMemoryBrokerOptions> = Object.freeze({
  defaultPartitions: 1,
});

/** Highest partition count a topic may have. @public */
export const MAX_IN_MEMORY_PARTITIONS = 10_000;

/** Lists the problems of a partition count (empty when valid). @internal */
export function partitionCountProblems(name: string, value: unknown): string[] {
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 1 &&
    value <= MAX_IN_MEMORY_PARTITIONS
    ? []
    : [`${name} must be an integer between 1 and ${MAX_IN_MEMORY_PARTITIONS} (got ${String(value)})`];
}

/** Merges defaults, rejects unknown keys and lists every problem (empty when valid). @public */
export function resolveInMemoryBrokerOptions(input: Partial<InMemoryBrokerOptions> = {}): {
  options: InMemoryBrokerOptions;
  problems: string[];
} {
  return resolveOptions(
    DEFAULT_IN_MEMORY_BROKER_OPTIONS,
    input,
    (options) => partitionCountProblems('defaultPartitions', options.defaultPartitions),
    (k) => `unknown in-memory broker option "${k}"`,
  );
}

/**
 * One stored record: the message serialised as JSON (`{ payload, headers }`), like on a real broker.
 * A publisher with a CloudEvents envelope (see docs/cloudevents.md) stores, in binary mode, the same
 * JSON with `ce_*` and `content-type` among its headers; in structured mode the CloudEvent itself
 * (JSON event format) as `value`, and the headers — gomes' and `content-type` — in `headers`.
 *
 * @public
 */
export interface InMemoryRecord {
  readonly topic: string;
  readonly partition: number;
  /** Position in the partition log, from 0. */
  readonly offset: bigint;
  /** The partition key (`partitionKeyOf(message.headers)`, see `PARTITION_KEY_HEADER`). */
  readonly key: string;
  /** `JSON.stringify({ payload, headers })`, or a structured CloudEvent. */
  readonly value: string;
  /** Headers outside the value: only structured CloudEvents records have them. */
  readonly headers?: Readonly<Record<string, string>>;
  /** When the broker stored it (ms since the epoch). */
  readonly timestampMs: number;
}

/** Refuses values JSON would silently drop or mangle. */
function strictReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`${typeof value} at "${key}" is not serialisable`);
  }
  return value;
}

/**
 * An in-process broker shaped like Kafka: topics with N partitions (append-only logs), records
 * stored serialised, partitions chosen by key (Kafka's murmur2 partitioner), and consumer groups
 * with committed offsets per partition whose members split the partitions and are rebalanced on
 * join and leave. Everything uncommitted is delivered again to the next member reading a partition.
 *
 * It is the default embedded transport and a test kit: share one broker between connections to
 * let several gomes instances talk, and inspect topics, records and committed offsets in tests.
 *
 * @example
 * ```ts
 * const broker = new InMemoryBroker({ defaultPartitions: 3 });
 * broker.publish('orders', MessageBuilder.withPayload({ id: 1 }).build());
 * broker.records('orders', 0);
 * ```
 * @public
 */
export class InMemoryBroker {
  /** The resolved options. */
  readonly options: Readonly<InMemoryBrokerOptions>;
  readonly #topics = new Map<string, InMemoryRecord[][]>();
  readonly #groups = new Map<string, ConsumerGroupState>();
  readonly #listeners = new Map<string, Set<(record: InMemoryRecord) => void>>();

  /** @throws ConfigurationError listing every invalid option. */
  constructor(options: Partial<InMemoryBrokerOptions> = {}) {
    const resolved = resolveInMemoryBrokerOptions(options);
    ConfigurationError.throwIfAny(resolved.problems, 'in-memory broker options');
    this.options = Object.freeze(resolved.options);
  }

  /**
   * Creates `topic` with `partitions` partitions (default: `defaultPartitions`) unless it exists;
   * an existing topic keeps its partitions.
   *
   * @returns the topic's partition count.
   * @throws GomesError `GOMES_CONFIGURATION` for an empty name or an invalid partition count.
   */
  createTopic(topic: string, partitions: number = this.options.defaultPartitions): number {
    const existing = this.#topics.get(topic);
    if (existing) return existing.length;
    const problems = partitionCountProblems('partitions', partitions);
    if (!topic) problems.push('a topic needs a non-empty name');
    ConfigurationError.throwIfAny(problems, `topic "${topic}"`);
    this.#topics.set(
      topic,
      Array.from({ length: partitions }, () => []),
    );
    return partitions;
  }

  /** Whether `topic` exists. */
  hasTopic(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** Names of every topic. */
  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /**
   * Partition count of `topic`.
   *
   * @throws GomesError `GOMES_NOT_FOUND` when the topic does not exist.
   */
  partitionCount(topic: string): number {
    return this.#log(topic).length;
  }

  /**
   * Stores `message` at the end of its key's partition (creating the topic if needed) and wakes
   * the topic's readers.
   *
   * `options.envelope` stores it as a CloudEvent too (see {@link InMemoryRecord}).
   *
   * @throws GomesError `GOMES_PUBLISH_FAILED` (not retriable) when the payload cannot be serialised
   * as JSON (BigInt, functions, symbols, cycles).
   */
  publish(
    topic: string,
    message: Message,
    options: { readonly envelope?: MessageEnvelope } = {},
  ): InMemoryRecord {
    const envelope = options.envelope ?? GOMES_ENVELOPE;
    let value: string;
    let headers: Record<string, string> | undefined;
    try {
      if (envelope.format === 'gomes') {
        value = JSON.stringify({ payload: message.payload, headers: message.headers }, strictReplacer);
      } else if (envelope.mode === 'binary') {
        const ce = cloudEventsBinaryHeaders(message.headers, 'application/json');
        value = JSON.stringify(
          { payload: message.payload, headers: { ...message.headers, ...ce } },
          strictReplacer,
        );
      } else {
        const payload = JSON.stringify(message.payload, strictReplacer) as string | undefined;
        value = encodeStructuredCloudEvent(message.headers, payload ?? null, 'application/json');
        headers = { ...message.headers, [CloudEventsHeaders.CONTENT_TYPE]: CLOUDEVENTS_JSON_CONTENT_TYPE };
      }
    } catch (cause) {
      throw new GomesError(
        'PUBLISH_FAILED',
        `Cannot serialise message ${message.messageId} for topic "${topic}": ${String(cause)}`,
        {
          cause,
          retriable: false,
          details: { topic, messageId: message.messageId },
        },
      );
    }
    this.createTopic(topic);
    const partitions = this.#log(topic);
    const key = partitionKeyOf(message.headers);
    const partition = partitionForKey(key, partitions.length);
    const log = partitions[partition] as InMemoryRecord[];
    const record: InMemoryRecord = Object.freeze({
      topic,
      partition,
      offset: BigInt(log.length),
      key,
      value,
      ...(headers === undefined ? {} : { headers: Object.freeze(headers) }),
      timestampMs: Date.now(),
    });
    log.push(record);
    for (const listener of this.#listeners.get(topic) ?? []) listener(record);
    return record;
  }

  /** Records of `topic`/`partition` from `fromOffset` (inclusive), at most `max` of them. */
  records(
    topic: string,
    partition: number,
    fromOffset = 0n,
    max = Number.MAX_SAFE_INTEGER,
  ): readonly InMemoryRecord[] {
    const log = this.#partition(topic, partition);
    const from = Number(fromOffset < 0n ? 0n : fromOffset);
    return log.slice(from, from + max);
  }

  /** The record at `offset`, or `undefined` past the end. */
  recordAt(topic: string, partition: number, offset: bigint): InMemoryRecord | undefined {
    return this.#partition(topic, partition)[Number(offset)];
  }

  /** The offset the next record of `topic`/`partition` will get (the log end). */
  endOffset(topic: string, partition: number): bigint {
    return BigInt(this.#partition(topic, partition).length);
  }

  /**
   * Decodes a record into a fresh message (a new payload copy on every call). CloudEvents records
   * are recognised as on Kafka: one gomes wrote is read by its gomes headers, another producer's
   * event is mapped (`id` → messageId, `type` → route, `source` → origin, …).
   *
   * @throws GomesError `GOMES_TRANSLATION_FAILED` when the record is neither a gomes message nor a
   * valid CloudEvent.
   */
  decode(record: InMemoryRecord): Message {
    try {
      if (record.headers !== undefined && cloudEventsModeOf(record.headers) === 'structured') {
        const event = decodeStructuredCloudEvent(record.value, record.headers);
        const data = event.data;
        const payload = data.kind === 'json' ? data.value : data.kind === 'bytes' ? data.bytes : undefined;
        return MessageBuilder.fromHeaders(payload, event.headers).build();
      }
      const parsed = JSON.parse(record.value) as { payload?: unknown; headers: Record<string, string> };
      const headers =
        cloudEventsModeOf(parsed.headers) === 'binary'
          ? fromCloudEventsBinaryHeaders(parsed.headers)
          : parsed.headers;
      return MessageBuilder.fromHeaders(parsed.payload, headers).build();
    } catch (cause) {
      throw new GomesError(
        'TRANSLATION_FAILED',
        `Cannot decode record ${record.topic}/${record.partition}@${record.offset}: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  /**
   * Joins consumer group `groupId` on `topic` (creating the topic if needed). The group rebalances:
   * `listener` is told its partitions before this returns. An `ephemeral` group is forgotten —
   * committed offsets included — when its last member leaves (the group must be new or ephemeral).
   */
  joinGroup(
    groupId: string,
    topic: string,
    listener: GroupMemberListener,
    options: { ephemeral?: boolean } = {},
  ): GroupMembership {
    this.createTopic(topic);
    return this.#group(groupId, topic, options.ephemeral === true).join(listener);
  }

  /** The committed offset of `groupId` on `topic`/`partition`, if any. */
  committedOffset(groupId: string, topic: string, partition: number): bigint | undefined {
    return this.#groups.get(groupKey(groupId, topic))?.committedOffsets.get(partition);
  }

  /** Partitions of each member of `groupId` on `topic`, by member id (empty when nobody joined). */
  groupAssignments(groupId: string, topic: string): ReadonlyMap<string, readonly number[]> {
    return this.#groups.get(groupKey(groupId, topic))?.assignments() ?? new Map();
  }

  /**
   * Calls `listener` with every record appended to `topic` from now on.
   *
   * @returns a function that removes the listener.
   */
  onAppend(topic: string, listener: (record: InMemoryRecord) => void): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  #group(groupId: string, topic: string, ephemeral: boolean): ConsumerGroupState {
    const key = groupKey(groupId, topic);
    let group = this.#groups.get(key);
    if (!group) {
      const forget = ephemeral
        ? () => this.#groups.get(key) === group && this.#groups.delete(key)
        : undefined;
      group = new ConsumerGroupState(groupId, topic, this.partitionCount(topic), forget);
      this.#groups.set(key, group);
    }
    return group;
  }

  /** Ids of the consumer groups on `topic` (ephemeral ones only while they have members). */
  groups(topic: string): string[] {
    const suffix = groupKey('', topic);
    return [...this.#groups.keys()].filter((k) => k.endsWith(suffix)).map((k) => k.slice(0, -suffix.length));
  }

  #log(topic: string): InMemoryRecord[][] {
    const log = this.#topics.get(topic);
    if (!log) throw new GomesError('NOT_FOUND', `Topic "${topic}" does not exist on the in-memory broker`);
    return log;
  }

  #partition(topic: string, partition: number): InMemoryRecord[] {
    const log = this.#log(topic)[partition];
    if (!log) throw new GomesError('NOT_FOUND', `Topic "${topic}" has no partition ${partition}`);
    return log;
  }
}

function groupKey(groupId: string, topic: string): string {
  return `${groupId}\u0000${topic}`;
}
