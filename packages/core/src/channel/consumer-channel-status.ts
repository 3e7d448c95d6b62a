/**
 * Transport-level state of a consumer channel's subscription, as reported by
 * {@link ConsumerChannelStatus.state}:
 *
 * - `running`: it is a group member with an assignment and hands deliveries over;
 * - `rebalancing`: it is joining (or re-joining) its group; nothing is handed over meanwhile;
 * - `crashed`: the client failed; see {@link ConsumerChannelStatus.restarting};
 * - `stopped`: there is no open subscription.
 *
 * @public
 */
export type ConsumerTransportState = 'running' | 'rebalancing' | 'crashed' | 'stopped';

/**
 * Progress of one partition of a consumer channel (see {@link ConsumerChannelStatus.partitions}).
 *
 * @public
 */
export interface PartitionProgress {
  /** Topic / channel. */
  readonly channel: string;
  /** Partition. */
  readonly partition: number;
  /** Messages between the acked (committable) position and the end of the partition (>= 0). */
  readonly lag: number;
  /**
   * When the partition last made progress, in ms since the epoch: the last time its acked position
   * moved, the partition caught up (lag 0), or it was assigned / first fetched (whichever is
   * latest). A partition with lag whose `lastProgressAt` is old is stalled: its handler is blocked,
   * its consumer crashed, or it is paused and never resumed.
   */
  readonly lastProgressAt: number;
  /** Consumer group, when known. */
  readonly group?: string;
}

/**
 * What a consumer channel tells about its subscription, for `gomes.health()`. A snapshot: reading
 * it does no I/O.
 *
 * @public
 */
export interface ConsumerChannelStatus {
  /** Transport-level state. */
  readonly state: ConsumerTransportState;
  /** When it entered `state`, in ms since the epoch. */
  readonly since: number;
  /**
   * While `crashed`: whether the transport is restarting the client by itself (bounded restarts);
   * `false` once it gave up. Absent means the transport never restarts.
   */
  readonly restarting?: boolean;
  /** While `crashed`: why. */
  readonly error?: string;
  /**
   * Assigned partitions with their lag and last progress. Transports list a partition once its lag
   * is known (Kafka: after its first fetch).
   */
  readonly partitions: readonly PartitionProgress[];
}
