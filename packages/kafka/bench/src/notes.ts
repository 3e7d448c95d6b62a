/**
 * Profiling findings, appended to docs/benchmarks.md (kept in code so the generated file is complete).
 * The numbers quoted here come from the profiling probes described, not from the table above.
 */
export const FINDINGS = `## What changed (performance work after the first run)

The findings below were measured before these changes; the table above is measured after them.

- **Consume, @gomes/kafka: no more re-fetching.** A partition worker keeps every record of a fetched batch (its
  prefetch buffer) instead of taking \`queueCapacity\` records and leaving the rest to be fetched and decoded again. The
  batch handler then waits, heartbeating every \`heartbeatIntervalMs\` and leaving at once on stop, seek or rebalance,
  until at most half a fetch (\`maxBytes\` / 2 per partition) is still buffered; so kafkajs fetches again only when there
  is room, and no longer sleeps \`maxWaitTime\` because every partition is paused. \`queueCapacity\` now bounds the records
  of a partition handed over and not yet acked (the partition is paused while it is reached); fetch position is resolved
  once per batch. Deliveries are small frozen class instances instead of objects with closures.
- **Consume, @gomes/core: per-message abort/timeout cost.** The processing signal is created lazily (an \`AbortScope\`
  materialises the \`AbortSignal\` only when a handler or middleware reads \`ctx.signal\`); \`processingTimeout\` links the
  attempt to its parent with a callback instead of \`AbortSignal.any\`, settles with one promise instead of
  \`Promise.race\`, and all deadlines of a step share one timer (cleared when nothing is running). The message logger
  is made on first use. Timeouts, parent aborts and shutdown aborts behave as before (same errors, same tests).
- **Consume, the rest:** class-validator \`validate()\` is skipped for classes without validation metadata (cached per
  class); the dispatcher calls a single event handler without \`Promise.allSettled\` and skips the tracing wrapper when
  tracing is off; the Kafka translator hands its header object to the message (\`MessageBuilder.buildFromOwnedHeaders\`)
  instead of copying it three times; the timestamp normalisation remembers its latest result; metrics attributes are
  reused per consumer.
- **Publish:** \`MessageBuilder.build\` / \`from\` copy headers with \`Object.assign\` instead of a spread (in Node 20's
  V8, adding the default headers to an object made by \`{ ...headers }\` cost about 1 µs per property: \`build()\` went
  from ~9 µs to ~2 µs in a probe), and one header copy less; one scheduled kick per tick for concurrent sync sends (not
  one \`setImmediate\` per send), no header copy in the driver, cheaper trace-header normalisation. The batch size stays
  \`batchSize\` (100, as the raw side), so the remaining publish gap is mostly the headers' wire cost (reference line).

## Profiling findings

Method: \`node --cpu-prof\` on the benchmark and on single-scenario probes, self time aggregated per function; a counting
wrapper around the kafkajs driver (records fetched, pause/resume calls) for the consume path.

1. **Consume, @gomes/kafka: fetch/decode amplification (the biggest gap).** The consumer channel buffers at most
   \`queueCapacity\` (default 100) records per partition, but a fetch returns up to \`maxBytes\` (1 MiB) per partition, about
   750 of these records. \`PartitionWorker.accept\` takes what fits, leaves the rest of the fetched batch unresolved and pauses
   the partition; the first ack below the capacity resumes it and kafkajs fetches, CRC-checks and decodes the same records
   again. Probe (20,000 records, 3 partitions): 152,815 records fetched and decoded in 201 fetches (7.6x) with the
   defaults, against 20,000 in 27 fetches (1.0x) with \`withQueueCapacity(1000)\` (row 2b). Tried and reverted: resuming only
   at half the capacity (hysteresis). It made consumption 2-4x slower, because kafkajs sleeps \`maxWaitTime\` (500 ms) whenever
   every assigned partition is paused (\`consumerGroup.fetch\`: \`if (!requests.length) await sleep(this.maxWaitTime)\`).
   No change was made in the package. Options for its owner: keep the unaccepted tail of a fetched batch in the worker
   instead of re-fetching it (memory stays bounded by \`maxBytes\` per partition, but \`queueCapacity\` would no longer bound
   everything fetched, as documented now); raise the default \`queueCapacity\`; or derive \`maxBytesPerPartition\` from it.
2. **Consume, @gomes/core: per-message abort/timeout machinery.** The \`processingTimeout\` middleware (on by default,
   100 s) creates an \`AbortController\`, an \`AbortSignal.any([...])\`, a \`setTimeout\`/\`clearTimeout\` pair, a listener and a
   \`Promise.race\` per message; \`EventDrivenConsumer\` adds another \`AbortController\` per delivery. \`createAbortSignal\`,
   \`AbortSignal.any\` and the weak references it keeps are the top non-kafkajs self-time items, with GC at 13-16 % of CPU.
   Turning the timeout off (row 2c against 2b) roughly doubles the throughput. Suggestion: one controller per message,
   aborted by the timer and by a listener on the parent signal instead of \`AbortSignal.any\`; create it lazily, or check
   deadlines for all messages with one shared timer instead of one \`setTimeout\` per message.
3. **Consume, what is left (row 2c).** Per message, one at a time across all partitions (one promise chain in
   \`KafkaConsumerSubscription.handOver\`): headers turned into strings (driver), translator + \`MessageBuilder.fromHeaders\`
   (timestamp parsing) + \`Message\`, a frozen \`Delivery\` with closures and BigInt offsets, \`KeyedExecutor.submit\`, the
   pipeline layers (ack, dead letter, retry, tracing), the action dispatcher (\`toActionInstance\` + class-validator
   \`validate()\`), and several awaited promises. No single item dominates. The raw consumer handles a whole batch in one
   synchronous loop.
4. **Publish.** Half or more of the gap is the gomes wire format, not gomes code: kafkajs encodes every header key and
   value as its own Buffer (varints, CRC over more bytes). See the reference line under the table: raw kafkajs with
   gomes' headers and no gomes code. The rest is message building in @gomes/core (\`MessageBuilder.build\`: uuid v7, timestamp formatting, header
   object copies) and small copies in @gomes/kafka (\`toRecord\` copies and normalises headers, \`recordBytes\` calls
   \`Buffer.byteLength\` per header, the driver copies the headers again). Sync and async modes perform the same because
   both send one request of 100 records at a time (\`maxInFlightRequests\` 1, as the raw side). No cheap fix in the
   package changes this materially.
5. **Latency.** gomes adds one \`setImmediate\` hop per sync send (sends made in the same tick share one request) and the
   message building, about 0.1 ms at p50. p99 follows the machine load (other processes on the 2 cores), for both sides alike.
`;
