export {
  type Acquisition,
  acquisitionsFor,
} from "./acquisition.js";
export {
  type BrokerReport,
  emptyBrokerReport,
  SampleBroker,
} from "./broker.js";
export { sampleNamesOf } from "./sample-names.js";
