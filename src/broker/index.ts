export {
  ACQUISITION_STATUSES,
  type Acquisition,
  type AcquisitionEvent,
  type AcquisitionStatus,
  acquisitionKey,
  acquisitionKeysOf,
  acquisitionsFor,
} from "./acquisition.js";
export {
  type BrokerDeps,
  type BrokerLimits,
  type BrokerReport,
  DEFAULT_BROKER_LIMITS,
  SampleBroker,
} from "./broker.js";
export { DEFAULT_SKIP_POLICY, type SkipPolicy, skipReason } from "./policy.js";
export { sampleNamesOf } from "./sample-names.js";
