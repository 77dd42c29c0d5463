/** The EQL front end and evaluator: parse Elasticsearch EQL, and run it over JSON events. */
export * from "./ast.js";
export { type EqlMatch, type EvaluateOptions, evaluate } from "./evaluate.js";
export { fieldsFromEsMapping } from "./mapping.js";
export { normalizeCondition } from "./normalize.js";
export { MAX_EXPRESSION_DEPTH, parseEql, parseEqlExpression, tryParseEql } from "./parser.js";
