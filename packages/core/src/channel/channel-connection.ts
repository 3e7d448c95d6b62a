import type { TopicAdmin } from '../topics/topic-provisioning.js';

/**
 * State of a {@link ChannelConnection}: `connected` after a successful `connect()` until
 * `disconnect()`; `failed` when the transport knows it lost the connection for good.
 *
 * @public
 */
export type ChannelConnectionState = 'disconnected' | 'connecting' | 'connected' | 'failed';

/**
 * A connection to a transport (a Kafka cluster, the in-memory broker). Registered with
 * `gomes.addChannelConnection()`, connected by `start()` and disconnected last by `shutdown()`.
 *
 * @public
 */
export interface ChannelConnection {
  /** Reference name used by publisher and consumer builders. */
  readonly name: string;
  /**
   * Optional: the connection's state, reported by `gomes.health()`. Without it, a connection counts
   * as `connected` while the gomes instance is started.
   */
  readonly state?: ChannelConnectionState;
  /** Problems with the connection's configuration, checked by `start()` before anything connects. */
  validate(): string[];
  /** Connects; rejects with a clear `GomesError` when the transport cannot be reached. */
  connect(): Promise<void>;
  /** Disconnects. Idempotent. */
  disconnect(): Promise<void>;
  /**
   * Optional: topic administration for `gomes.addTopics` (called after `connect()`). A connection
   * without it cannot have topics declared on it.
   */
  topicAdmin?(): TopicAdmin;
}
