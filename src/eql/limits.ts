/**
 * What `shmhunt eql` reads at most from a file, in one place (docs/service.md cites it).
 *
 * An events file (`--events`, a JSON array or NDJSON, or standard input) or an Elasticsearch mapping
 * (`--mapping`): 64 MiB. These are local test files of events, read whole and parsed into objects (several times
 * their size in memory) before the query runs; 64 MiB is the workspace's limit on one record
 * (WORKSPACE_LIMITS.recordBytes: one exported record with the largest value a Kusto column holds), so a file
 * of many such events, or a mapping far larger than any index's, fits. A larger file is refused as the reader
 * reaches the limit, naming the file and the limit, rather than held in memory first (near V8's longest string,
 * ~512 MiB, it could not be read at all).
 */
export const EQL_FILE_LIMITS = { fileBytes: 64 * 1024 * 1024 } as const;
