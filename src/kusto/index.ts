/**
 * shmhunt's wrapper of Microsoft's Kusto.Language. Importing this module is cheap: the library itself is loaded
 * on the first call that needs it (see runtime.ts).
 */
export { buildGlobals, emptyTableExpression, type GlobalsOptions, quoteName, resolveSchemas } from "./globals.js";
export { bridgeTypeName, type KustoLanguage, kustoLanguage, listItems } from "./runtime.js";
export {
  type ColumnSchema,
  defaultSchemaDir,
  type FunctionSchema,
  type KqlType,
  kqlTypeNamed,
  loadSchemas,
  normalizeType,
  type Schemas,
  watchlistFunction,
} from "./schemas.js";
export { kustoDiagnostics, parseKql, type ValidateOptions, validateKql } from "./validate.js";
