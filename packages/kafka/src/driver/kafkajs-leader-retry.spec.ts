import { withLeaderRetry } from './kafkajs-leader-retry.js';

function leaderError(type: string): Error {
  return Object.assign(new Error(`This server is not the leader (${type})`), { type, retriable: true });
}

describe('withLeaderRetry', () => {
  it('refreshes metadata and retries while the leader moves, then returns the answer', async () => {
    const errors = [leaderError('NOT_LEADER_OR_FOLLOWER'), leaderError('LEADER_NOT_AVAILABLE')];
    let calls = 0;
    let refreshes = 0;
    const result = await withLeaderRetry(
      async () => {
        calls++;
        const error = errors.shift();
        if (error) throw error;
        return 'offsets';
      },
      async () => void refreshes++,
    );
    expect(result).toBe('offsets');
    expect(calls).toBe(3);
    expect(refreshes).toBe(2);
  });

  it('finds the leader error behind a retrier wrapper (originalError)', async () => {
    let calls = 0;
    const wrapped = Object.assign(new Error('Retry limit'), {
      originalError: leaderError('NOT_LEADER_FOR_PARTITION'),
    });
    await expect(
      withLeaderRetry(
        async () => {
          if (calls++ === 0) throw wrapped;
          return 1;
        },
        async () => undefined,
      ),
    ).resolves.toBe(1);
  });

  it('throws any other error at once, without retrying', async () => {
    let calls = 0;
    const other = Object.assign(new Error('unknown topic'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(
      withLeaderRetry(
        async () => {
          calls++;
          throw other;
        },
        async () => undefined,
      ),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
  });

  it('gives up with the last leader error once the budget is spent', async () => {
    const error = leaderError('NOT_LEADER_OR_FOLLOWER');
    await expect(
      withLeaderRetry(
        async () => {
          throw error;
        },
        async () => undefined,
        120,
      ),
    ).rejects.toBe(error);
  });
});
