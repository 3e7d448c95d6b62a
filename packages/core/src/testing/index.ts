/**
 * `@gomes/core/testing`: helpers for users' unit tests and the transport contract suite every
 * transport runs (the in-memory one here, Kafka in `@gomes/kafka`).
 *
 * @packageDocumentation
 */
export {
  describeTransportContract,
  DEFAULT_TRANSPORT_CONTRACT_FEATURES,
  type TransportContractFactory,
  type TransportContractFeatures,
} from './transport-contract.js';
export { waitFor, holdsFor, withTimeout, type WaitForOptions } from './wait-for.js';
export { RecordingPublisherChannel } from './recording-publisher-channel.js';
export {
  createTestDelivery,
  type DeliverySettlement,
  type TestDelivery,
  type TestDeliveryOptions,
} from './test-delivery.js';
export {
  describeIdempotencyStoreContract,
  type IdempotencyStoreContractFactory,
} from './idempotency-store-contract.js';
