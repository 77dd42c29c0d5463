/** The EQL front end and evaluator: parse Elasticsearch EQL, and run it over JSON events. */
export * from "./ast.js";
export { type EqlMatch, type EvaluateOptions, type EvaluateResult, evaluate } from "./evaluate.js";
export type { FieldMapping, FieldMappings } from "./events.js";
export { FUNCTIONS, type FunctionSignature } from "./functions.js";
export { fieldsFromEsMapping } from "./mapping.js";
export { booleanEquality, normalizeCondition } from "./normalize.js";
export { MAX_EXPRESSION_DEPTH, parseEql, parseEqlExpression, tryParseEql } from "./parser.js";
export type { Value } from "./values.js";
