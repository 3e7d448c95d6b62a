import { Event, type Message } from '@gomes/core';
import { JsonMessageSerializer, type MessageSerializer } from '@gomes/kafka';
import type { FaultKind } from './app-config.js';

/** The event every fault scenario publishes: message `n`, the `seq`-th of its `key`. */
@Event('fault.tick')
export class FaultTick {
  n!: number;
  key!: string;
  seq!: number;
  kind!: FaultKind;
}

/**
 * The publisher's serializer: JSON, except for `undecodable` messages, whose value is bytes no JSON
 * reader accepts (the consumer must dead-letter the record and move on).
 */
export class PoisonSerializer implements MessageSerializer {
  readonly #json = new JsonMessageSerializer();
  readonly contentType = this.#json.contentType;

  serialize(message: Message): Buffer | string | null {
    const payload = message.payload as Partial<FaultTick> | null;
    if (payload?.kind === 'undecodable') return Buffer.from([0x7b, 0x00, 0xff, 0x21]); // "{\0\xff!"
    return this.#json.serialize(message);
  }

  deserialize(value: Buffer | null): unknown {
    return this.#json.deserialize(value);
  }
}
