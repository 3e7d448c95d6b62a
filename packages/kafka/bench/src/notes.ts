/**
 * Profiling findings, appended to docs/benchmarks.md (kept in code so the generated file is complete).
 * The numbers quoted here come from the profiling probes described, not from the table above.
 */
export const FINDINGS = `## Profiling findings

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
