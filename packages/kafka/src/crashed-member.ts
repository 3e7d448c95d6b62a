import type { Logger } from '@gomes/core';
import type { DriverConsumer } from './driver/kafka-driver.js';
import { rootMessage } from './kafka-errors.js';

/**
 * Removes the member of a consumer client that crashed from its group (LeaveGroup on its behalf),
 * through `consumer` (connected, not joined yet). The crashed client is disconnected, but when it
 * crashed because the broker was gone it could not leave: the group — restored from the log when the
 * broker comes back — keeps it until its session times out, and the next join waits for that.
 * Removing it first lets the restarted member get its partitions at once.
 *
 * Best effort: a failure is logged and the join proceeds (the partitions then come back once the
 * crashed member's session timed out).
 *
 * @returns whether the member is known gone (removed now, or had left): `false` after a failure,
 *   so the next restart tries again.
 * @internal
 */
export async function removeCrashedMember(
  consumer: DriverConsumer,
  groupId: string,
  memberId: string,
  logger: Logger,
): Promise<boolean> {
  const fields = { groupId, memberId };
  try {
    const removed = await consumer.removeMember(memberId);
    logger.info(
      removed
        ? 'Removed the crashed Kafka consumer client from its group (it could not leave)'
        : 'The crashed Kafka consumer client had left its group already',
      fields,
    );
    return true;
  } catch (error) {
    logger.warn(
      'Could not remove the crashed Kafka consumer client from its group; its partitions come back once its session timed out',
      { ...fields, reason: rootMessage(error) },
    );
    return false;
  }
}
