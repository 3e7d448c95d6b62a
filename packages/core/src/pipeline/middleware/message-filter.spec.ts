import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import { messageFilter } from './message-filter.js';

describe('messageFilter (sync predicate)', () => {
  it('accepts a synchronous predicate and logs drops', async () => {
    const info = jest.fn();
    const logger = { ...noopLogger, info, child: () => logger };
    const run = messageFilter((m) => m.route === 'keep')(async (m) => m);
    const ctx = {
      signal: new AbortController().signal,
      logger,
      endpointName: 't',
      channels: { publisher: () => undefined },
      state: { attempts: 0 },
    };
    const dropped = MessageBuilder.withPayload(1).route('drop').build();
    await expect(run(dropped, ctx)).resolves.toBeUndefined();
    expect(info).toHaveBeenCalledWith(
      expect.stringContaining('filtered'),
      expect.objectContaining({ route: 'drop' }),
    );
    const kept = MessageBuilder.withPayload(1).route('keep').build();
    await expect(run(kept, ctx)).resolves.toBe(kept);
  });
});
