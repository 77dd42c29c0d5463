/**
 * shmhunt's wrapper of Microsoft's Kusto.Language. Importing this module is cheap: the library itself is loaded
 * on the first call that needs it (see runtime.ts).
 */
export { buildGlobals, resolveSchemas } from "./globals.js";
export { bridgeTypeName, kustoLanguage, listItems } from "./runtime.js";
export {
  type ColumnSchema,
  type FunctionSchema,
  type KqlType,
  kqlTypeNamed,
  loadSchemas,
  normalizeType,
  type Schemas,
} from "./schemas.js";
export { kustoDiagnostics, parseKql, validateKql } from "./validate.js";
