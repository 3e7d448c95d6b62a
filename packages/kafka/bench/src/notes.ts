/**
 * Profiling findings, appended to docs/benchmarks.md (kept in code so the generated file is complete).
 * The numbers quoted here come from the profiling probes described, not from the table above.
 */
export const FINDINGS = `## Fast paths: what the profiles showed and what changed

The tables above are measured on the code after these changes. Method: \`node --cpu-prof\` on single-scenario probes,
self time per function (and, for publish, the difference per function between a gomes run and a raw kafkajs run of
the same records), plus \`process.cpuUsage()\` per message.

- **In process, before: ~0.02x of @nestjs/cqrs.** Profile of 300k awaited \`commandBus().send\`: 32 % \`crypto.randomFillSync\`
  (the \`uuid\` package draws fresh random bytes per id, and a send made three: messageId, correlationId and the reply's
  messageId), 17 % \`AbortSignal\` creation (a never-aborted \`AbortController\` per send), 15 % GC, 10 %
  \`Date#toISOString\` (two timestamps per send), then message building, header copies, \`logger.child\` and seven nested
  \`async\` functions per call.
- **In process, changes.** Ids come from a pooled random source (\`message-id.ts\`: RFC 9562 uuid v7, one
  \`randomFillSync\` per ~2,700 ids, a 26-bit counter started at a random value each millisecond so ids are monotonic in
  the order they are made, never back in time). A bus sends an \`ActionEnvelope\`: its send time is read at send; its ids,
  header object, timestamp text and \`Message\` are made on first read and kept, so every reader sees the same values
  (pinned by \`message-identity.spec.ts\`). The in-process context makes the \`AbortSignal\` and the bound logger on first
  read; the dispatcher returns the handler's result without building a reply message; bus, transport and dispatcher hand
  back the handler's own promise instead of wrapping it in an \`async\` function per layer. Tracing, validation (on send and
  again in the dispatcher), event fan-out and errors are unchanged. What is left in the profile: \`Date.now\` (the send
  time, ~20 %), GC, and the caller's own loop and \`await\`.
- **Publish, before: 77 % (sync) and 74 % (event bus) of raw kafkajs sending the same records.** The busy-time difference
  against raw kafkajs sending identical keys and headers (20k records, gomes 23.0 s against 13.0 s on a loaded machine):
  GC +1.8 s, \`Buffer\` allocation +1.6 s and the serializer +0.8 s. The JSON serializer turned every value into a \`Buffer\`
  (an allocation and a copy) that kafkajs copied again, where a raw user passes the JSON string that kafkajs writes into
  the request directly. Then \`Object.entries\` in \`toRecord\` (~1.7 µs per record in a probe) and in the record size
  estimate, the record copied from translator to channel to driver to kafkajs message, and a \`Deferred\` plus an async
  wrapper promise per send.
- **Publish, changes.** \`MessageSerializer.serialize\` may return a string (the JSON serializer returns the JSON text); the
  translator's record object goes to kafkajs as it is (no copy in the channel or the driver); a sync send returns its
  record's own promise; the instrumented publisher and the channel bus chain promises instead of nesting \`async\`
  functions. Then the order of work: the channel resolved an acknowledged request's sends before handing the next
  request to kafkajs, so the callers' follow-up work (the next sends: building, serialising) ran in front of kafkajs'
  own microtasks and the broker waited; the next request now goes out first and the previous sends are resolved on the
  next turn of the event loop (at once when nothing is left to send). Per message, the gomes sync channel now uses about
  the CPU time raw kafkajs uses for the same records (the CPU column above); the event bus adds validation, the action
  envelope and the publish metrics.
- **Publish, what the rows show about depth.** With 1000 sends in flight (1a', 1c'), 900 of them wait in the channel with
  their serialised records, which outlive young-generation collections at kafkajs' allocation rate (~25 KB per record)
  and get promoted: \`--trace-gc-nvp\` over the same records showed 287 MB promoted at 1000 in flight against 80 MB at 200
  and 83 MB for raw kafkajs. Keep about two requests' worth of sends in flight (\`2 × batchSize\`) when throughput matters.
- **Measuring on a shared machine.** Forcing \`gc()\` between in-process runs charged the collector's lazily finished work
  to the next slice (ten times slower), and five back-to-back Kafka runs per side moved by 20 % between invocations: both
  benchmarks now interleave the sides in slices, without forced collections.
- **Consume on the consume core (issue 9).** Every Kafka event-driven consumer now runs on the consume core. CPU per
  consumed record (\`process.cpuUsage()\` over 30,000 records of 1 KiB JSON, no-op handler, same session, loaded machine):
  raw kafkajs \`eachBatch\` + \`JSON.parse\` 19–29 µs; gomes 53–66 µs before this round, 45–50 µs after (batch handler
  150–185 → 92–121 µs). The consumer is CPU-bound (its partition buffers never fill, so nothing pauses), so throughput
  follows CPU. Profile before (self time): GC 19–28 %, \`deserialize\` 3.9 %, the kafkajs record decoder 3.4 %,
  \`toActionInstance\` 2.6 %, a \`WeakMap.set\` per message for the processor release 2.2 % (plus ephemeron work in GC),
  async hooks ~4 %, then the dispatcher's, send-reply's and processing timeout's promise layers. Changes: the only handler
  of an event is called without an extra settle promise; send-reply passes through for messages without \`replyTo\`; the
  processing timeout runs each attempt as one object (its own deadline entry and abort listener) instead of an async step
  with eight closures; the engine keeps the attempt's own promise; \`toActionInstance\` assigns plainly when the class has
  no setter or read-only property; the translator walks \`Object.keys\`; the processor release rides on the delivery (a
  symbol slot), not a WeakMap; a batch's \`AbortSignal.any\` is made only when the handler reads it. Left: the async hooks
  come from \`inheritCausation\` (on by default): every handler call runs in an \`AsyncLocalStorage\`, which on Node 20
  turns on promise hooks for every promise in the process (turning it off saved 3–5 µs per record); the key scheduler's
  lane object, items array and map entry per record; the tracing middleware's map set/delete per message with tracing off.
- **Consume, second round (\`consume-cpu.ts\` probe: raw kafkajs and gomes alternated in one process, CPU µs per record,
  plus allocation sampling).** Profile: GC 31 % of busy time; \`normalizeTimestamp\` 3.2 % (every record has its own
  millisecond, so its memo missed and each record paid a \`Date\` parse and \`toISOString\`); a \`setTimeout\` and
  \`clearTimeout\` per message in the processing timeout (one message at a time empties its deadline list);
  14.4 KB allocated per record. Changes: canonical timestamp text is kept as it is (shape, day ≤ 28, hour ≤ 23 and
  \`Date.parse\` checked, anything else parsed and re-formatted); the timeout's shared timer stays, unreferenced, while
  no attempt runs; the engine runs an attempt in one async function instead of two; the observability run sits in a slot
  of the delivery state instead of a map; a Kafka source record is a class instance (no decode closure); the key
  scheduler reuses emptied lanes. 13.7 KB per record; gomes / raw kafkajs CPU per record on Node 20 went from
  2.7–2.8x to 2.3x (alternated runs); on Node 24 the runs overlap (1.8–2.3x before, 2.1x after). \`inheritCausation\`
  costs nothing measurable on Node 24 (AsyncContextFrame) and 0–5 µs per record on Node 20, within the noise of this
  machine; the batch handler still runs every event through the single-message pipeline (3–3.5x raw on Node 20).

## Earlier performance work (consume path, first publish pass)

The findings of this section were measured before these changes, on the code of the first benchmark run.

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

### Profiling findings (first run)

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
4. **Publish (superseded by the fast-path work above).** Half or more of the gap is the gomes wire format, not gomes code: kafkajs encodes every header key and
   value as its own Buffer (varints, CRC over more bytes). See the reference line under the table: raw kafkajs with
   gomes' headers and no gomes code. The rest is message building in @gomes/core (\`MessageBuilder.build\`: uuid v7, timestamp formatting, header
   object copies) and small copies in @gomes/kafka (\`toRecord\` copies and normalises headers, \`recordBytes\` calls
   \`Buffer.byteLength\` per header, the driver copies the headers again). Sync and async modes perform the same because
   both send one request of 100 records at a time (\`maxInFlightRequests\` 1, as the raw side). No cheap fix in the
   package changes this materially.
5. **Latency.** gomes adds one \`setImmediate\` hop per sync send (sends made in the same tick share one request) and the
   message building, about 0.1 ms at p50. p99 follows the machine load (other processes on the 2 cores), for both sides alike.
`;
