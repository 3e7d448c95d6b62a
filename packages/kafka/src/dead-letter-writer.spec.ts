import { type GomesError, noopLogger } from '@gomes/core';
import { DeadLetterWriter } from './dead-letter-writer.js';
import type { DriverInboundRecord } from './driver/kafka-driver.js';
import { KafkaHeaders } from './kafka-headers.js';
import { fakeDriver } from '../test/support/fake-kafka-driver.js';

const record: DriverInboundRecord = {
  topic: 't',
  partition: 0,
  offset: '5',
  key: null,
  value: Buffer.from('{"ssn": "123-45-6789" "card": 4111}'),
  headers: {},
  timestamp: '0',
};

const failure = (type: string, message = type): Error => Object.assign(new Error(message), { type });
const parseError = (): Error => {
  try {
    JSON.parse(record.value!.toString());
  } catch (error) {
    return error as Error;
  }
  throw new Error('unreachable');
};

describe('DeadLetterWriter', () => {
  it('retries a retriable failure with backoff through a new producer, closing the failed one, and reports every failure', async () => {
    let failures = 2;
    const { driver, producers, admins } = fakeDriver(() => {
      if (failures-- > 0) throw failure('REQUEST_TIMED_OUT', 'Request timed out');
    });
    const errors: GomesError[] = [];
    const writer = new DeadLetterWriter(driver, 'd', 'g', noopLogger, (e) => errors.push(e), {
      initialMs: 1,
      maxMs: 4,
    });
    expect(await writer.write(record, new Error('bad'), () => false)).toBe('stored');
    expect(producers.map((p) => p.closed)).toEqual([true, true, false]);
    expect(admins).toEqual({ created: 1, disconnected: 1 }); // the topic is ensured once
    expect(errors.map((e) => [e.code, e.retriable, e.details['attempt']])).toEqual([
      ['GOMES_DEAD_LETTER_FAILED', true, 1],
      ['GOMES_DEAD_LETTER_FAILED', true, 2],
    ]);
    expect(writer.written).toBe(1);
    await writer.close();
    expect(producers.every((p) => p.closed)).toBe(true);
  });

  it('gives up at once on a non-retriable failure (record too large, not authorized), closes the producer and reports it', async () => {
    for (const type of ['MESSAGE_TOO_LARGE', 'TOPIC_AUTHORIZATION_FAILED']) {
      const { driver, producers } = fakeDriver(() => {
        throw failure(type);
      });
      const errors: GomesError[] = [];
      const writer = new DeadLetterWriter(driver, 'd', 'g', noopLogger, (e) => errors.push(e));
      const started = Date.now();
      expect(await writer.write(record, new Error('bad'), () => false)).toBe('failed');
      expect(Date.now() - started).toBeLessThan(300); // no backoff, no retry
      expect(producers.map((p) => [p.sent.length, p.closed])).toEqual([[1, true]]);
      expect(errors.map((e) => [e.code, e.retriable])).toEqual([['GOMES_DEAD_LETTER_FAILED', false]]);
      await writer.close();
    }
  });

  it('stops retrying once halted or closed, closing every producer it made', async () => {
    const { driver, producers } = fakeDriver(() => {
      throw failure('LEADER_NOT_AVAILABLE');
    });
    const writer = new DeadLetterWriter(driver, 'd', 'g', noopLogger, () => undefined, {
      initialMs: 1,
      maxMs: 2,
    });
    let halted = false;
    setTimeout(() => (halted = true), 30);
    expect(await writer.write(record, new Error('bad'), () => halted)).toBe('halted');
    await writer.close();
    expect(producers.length).toBeGreaterThan(1);
    expect(producers.every((p) => p.closed)).toBe(true);
  });

  it('never copies the payload quoted by a JSON decode error into the reason header', async () => {
    const { driver, producers } = fakeDriver();
    const writer = new DeadLetterWriter(driver, 'd', 'g', noopLogger);
    const error = parseError();
    expect(error.message).toMatch(/6789|position/); // what JSON.parse says
    expect(await writer.write(record, error, () => false)).toBe('stored');
    const reason = producers[0]!.sent[0]!.records[0]!.headers[KafkaHeaders.DLQ_REASON];
    expect(reason).toMatch(/^SyntaxError( at position \d+)?$/);
    const quoting = new SyntaxError(`Unexpected token 's', "secret-4111" is not valid JSON`);
    await writer.write(record, quoting, () => false);
    expect(producers[0]!.sent[1]!.records[0]!.headers[KafkaHeaders.DLQ_REASON]).toBe('SyntaxError');
    await writer.close();
  });
});
