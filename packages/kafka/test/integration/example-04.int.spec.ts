// Runs examples/04-kafka (built with tsc) against the real broker as a child process and checks
// what it prints: keyed events published, per-key order with several processors, request-reply, a
// consumer group started from a point in time and sought back to the earliest records.
import { buildExample, runExample } from '../../../../examples/test-support/run-example.js';
import { env, testDriverName } from '../support/kafka-harness.js';

const DIR = '04-kafka';

beforeAll(() => buildExample(DIR), 120_000);

describe('example 04-kafka', () => {
  it('runs the four scenarios against the broker and exits by itself with code 0', async () => {
    const { code, stdout, stderr } = await runExample(DIR, {
      timeoutMs: 90_000,
      env: { KAFKA_BROKERS: env.brokers.join(','), GOMES_KAFKA_DRIVER: testDriverName() },
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Kafka at ${env.brokers.join(',')}, driver ${testDriverName()} `);
    // 1. the producer service
    for (let n = 1; n <= 12; n++)
      expect(stdout).toMatch(new RegExp(`published orderPlaced #${n} key=(alice|bob|carol)\\n`));
    expect(stdout).toContain('[order-service] shut down (publisher flushed)');
    // 2. the consumer group: every order packed once, per-key order kept, work overlapped
    expect(stdout.match(/\[fulfilment\] order #\d+ of \w+ \(sku-\d+\) packed/g)).toHaveLength(12);
    expect(stdout).toContain('alice: orders 3, 6, 9, 12 -> in order');
    expect(stdout).toContain('bob: orders 1, 4, 7, 10 -> in order');
    expect(stdout).toContain('carol: orders 2, 5, 8, 11 -> in order');
    const parallel = Number(/up to (\d+) orders were packed at the same time/.exec(stdout)?.[1]);
    expect(parallel).toBeGreaterThan(1);
    expect(stdout).toContain('stats: received=12 succeeded=12 failed=0; consumer stopped');
    // 3. request-reply between two instances
    expect(stdout).toContain('[checkout] getStock -> {"sku":"book-42","available":5}');
    expect(stdout).toContain('[checkout] reserveStock 2 -> reservation-1');
    expect(stdout).toContain(
      '[checkout] reserveStock 10 -> GOMES_REMOTE_HANDLER_FAILED: Remote handler failed: only 3 x book-42 left',
    );
    expect(stdout).toContain('[checkout] getStock -> {"sku":"book-42","available":3}');
    // two replicas of checkout, configured alike: each gets its own replies, drops the other's
    expect(stdout).toContain('[checkout replica 1] 5 of 5 queries answered');
    expect(stdout).toContain('[checkout replica 2] 5 of 5 queries answered');
    expect(stdout).toContain(
      '[checkout replica 1] replies: 9 its own, 5 for the other replica (dropped, counted)',
    );
    expect(stdout).toContain(
      '[checkout replica 2] replies: 5 its own, 5 for the other replica (dropped, counted)',
    );
    // 4. start position and seek: the orders published after the point in time, then all again
    expect(stdout).toContain('[audit] started after order #6: orders 7, 8, 9, 10, 11, 12\n');
    expect(stdout).toContain('[audit] seek earliest: 3 partitions moved to offset 0\n');
    expect(stdout).toContain('[audit] after the seek: orders 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12\n');
    expect(stdout).not.toContain('[gomes error]');
    expect(stdout).toMatch(/done in \d+\.\d s/);
  }, 120_000);
});
