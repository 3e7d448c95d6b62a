/** What a subject name is made of. @public */
export interface SubjectNameInput {
  /** The Kafka topic. */
  readonly topic: string;
  /** Full name (`namespace.Name`) of the record, when the schema is a named type. */
  readonly recordName: string | undefined;
}

/** A custom subject naming function. @public */
export type SubjectNameFn = (input: SubjectNameInput) => string;

/**
 * How schemas map to registry subjects (Confluent's strategies, for record values):
 * - `topic` (default, TopicNameStrategy): `<topic>-value`: one schema lineage per topic;
 * - `record` (RecordNameStrategy): `<namespace.Name>`: one lineage per record type, on any topic;
 * - `topic-record` (TopicRecordNameStrategy): `<topic>-<namespace.Name>`: several record types on a
 *   topic, each with its own lineage;
 * - or a function.
 *
 * @public
 */
export type SubjectNameStrategy = 'topic' | 'record' | 'topic-record' | SubjectNameFn;

/**
 * The subject of `input` under `strategy`.
 *
 * @throws Error when a record strategy has no record name (the schema is not a named type, or it
 * is not known yet).
 * @public
 */
export function subjectName(strategy: SubjectNameStrategy, input: SubjectNameInput): string {
  if (typeof strategy === 'function') return strategy(input);
  if (strategy === 'topic') return `${input.topic}-value`;
  if (input.recordName === undefined)
    throw new Error(
      `the "${strategy}" subject name strategy needs a record name: attach a record schema to the action (@AvroSchema)`,
    );
  return strategy === 'record' ? input.recordName : `${input.topic}-${input.recordName}`;
}
