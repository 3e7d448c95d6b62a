import type { PublisherChannel } from '../channel/publisher-channel.js';
import type { ContractHarness } from './transport-contract-harness.js';
import type { TransportContractFactory, TransportContractFeatures } from './transport-contract.js';
import { waitFor } from './wait-for.js';

/** How the contract suite registers one test. @internal */
export type ContractTest = (
  title: string,
  fn: (h: ContractHarness) => Promise<void>,
  enabled?: boolean,
) => void;

/** Waits until a predicate holds; fails with `description` once the suite's timeout has passed. @internal */
export type Until = (predicate: () => unknown, description: string) => Promise<void>;

/** The scenarios' `until`, bounded by the suite's `timeoutMs`. @internal */
export function untilWithin(timeoutMs: number): Until {
  return async (predicate, description) => {
    await waitFor(predicate, timeoutMs, { description });
  };
}

/**
 * What the contract suite hands a group of consumer scenarios (registered only for a transport with a
 * partitioned source). @internal
 */
export interface ScenarioSuite {
  readonly test: ContractTest;
  readonly factory: TransportContractFactory;
  readonly features: TransportContractFeatures;
  /** The suite's wait bound (ms). */
  readonly timeoutMs: number;
  readonly until: Until;
}

/** A scenario's one-partition topic and dead-letter topic, each with a publisher. @internal */
export interface TopicWithDeadLetters {
  readonly topic: string;
  readonly dlqTopic: string;
  readonly publisher: PublisherChannel;
  readonly dlq: PublisherChannel;
}

/** Creates a one-partition topic and a one-partition dead-letter topic, and a publisher on each. @internal */
export async function topicWithDeadLetters(
  h: ContractHarness,
  factory: TransportContractFactory,
): Promise<TopicWithDeadLetters> {
  const topic = await factory.uniqueTopic(1);
  const dlqTopic = await factory.uniqueTopic(1);
  const publisher = await h.publisher(topic);
  const dlq = await h.publisher(dlqTopic);
  return { topic, dlqTopic, publisher, dlq };
}
