/**
 * What the local workspace engine reads at most from a table file, in one place (docs/service.md and
 * docs/workspace.md cite it).
 *
 * One record, in the bytes of its file: an NDJSON line (its bytes before the newline), an object of a `.json` table
 * file's top-level array (from its `{` to its `}`), a CSV record (its bytes before the newline that ends it, quoted
 * newlines included): 64 MiB. A string or dynamic value of a Kusto table holds at most 1 MB by default and
 * 32 MB with the BigObject32 encoding policy (its MaxValueSize), so a record exported from Log Analytics or Advanced
 * Hunting with the largest value a column can hold, that value's JSON escapes and the record's other columns fit,
 * with room. A longer record is no exported record; read whole, it is held in memory before anything can be said
 * about it (a 300 MB line took 30–50 s, then a query over it failed naming no file), and near V8's longest string
 * (2^29-24 characters, ~512 MiB) it cannot be read at all. So each reader refuses it as it passes the limit.
 */
export const WORKSPACE_LIMITS = { recordBytes: 64 * 1024 * 1024 } as const;
