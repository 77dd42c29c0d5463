/**
 * What a target is: everything shmhunt knows about one place the translated queries run (Defender XDR tables, the
 * ASIM parsers, auditd records in Syslog), in one entry. One file per target in this folder, registered in
 * `index.ts`; the translator, deploy, the hunt, the server and the CLI derive every per-target list and fact from
 * the registry. docs/targets.md shows the file that adds a target and what each fact is used for.
 */
import type { ColumnSchema, KqlType } from "../kusto/schemas.js";

/** Where one ECS field lives in a source (exactly one of column / expr / constant). */
export interface FieldSpec {
  /** A column of the source (its type comes from the schema). */
  readonly column?: string;
  /** A KQL expression over the source's columns, of type `type`. */
  readonly expr?: string;
  readonly type?: KqlType;
  /** The field has this value on every row of the source (e.g. `host.os.type` on Linux audit records). */
  readonly constant?: string | number | boolean;
  /**
   * ECS value → target values of the same column (`exec` → `["ProcessCreated"]`). A value absent from the map
   * refuses the rule, naming the field and the value. Keys are matched case-sensitively for `==`, and
   * case-insensitively for `:`/`in~`.
   */
  readonly values?: Readonly<Record<string, readonly string[]>>;
  /** ECS value → a KQL condition that holds when the field has that value (`"0"` → `AccountName == "root"`). */
  readonly conditions?: Readonly<Record<string, string>>;
  /**
   * The field is an argv list read from a string: `commandLine` (a command line, one argument per
   * whitespace-separated token) or `lines` (the real argv joined by newlines, one argument per line).
   */
  readonly argsOf?: "commandLine" | "lines";
  /** Set when the mapping is not exact: said in the per-rule report whenever the field is used. */
  readonly approximation?: string;
}

/** One table or function the target reads, with its fields. */
export interface SourceSpec {
  /** What the query starts from: a table (`DeviceProcessEvents`) or a function call (`_Im_ProcessEvent`). */
  readonly from: string;
  /** The table or function whose schema types the columns. */
  readonly schema: string;
  /** The event time column. */
  readonly time: string;
  /**
   * A column that orders events with the same time (Elasticsearch's `tiebreaker_field`): used by `head`/`tail`
   * and sequences when every source of the query has one.
   */
  readonly tiebreaker?: string;
  /**
   * The parameter list of the function `from` calls, as its author declares it (an ASIM unifying parser's filtering
   * parameters): it types the call when a query is checked or run locally. None for a table.
   */
  readonly parameters?: string;
  /**
   * Parameters of that function that keep only the rows whose `column` has one value: passed (`eventtype =
   * "ProcessCreated"`) when the query's condition requires `column == value` at its top level, so that the
   * function filters before it parses. The parameter must filter exactly so (the parser's own code says it does).
   */
  readonly filters?: readonly { readonly parameter: string; readonly column: string }[];
  /** EQL event categories this source holds, each with the extra KQL filter that selects it (null: none). */
  readonly categories: Readonly<Record<string, string | null>>;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

/** A Sentinel data connector and the tables it fills (hunting-query YAML `requiredDataConnectors`). */
interface DataConnector {
  readonly connectorId: string;
  readonly dataTypes: readonly string[];
}

/** The part of a target the emitter reads: its name and its sources with their field mappings. */
export interface TargetMapping {
  readonly target: string;
  readonly description: string;
  /** Sentinel data connectors the target's tables come from (hunting-query YAML `requiredDataConnectors`). */
  readonly dataConnectors: readonly DataConnector[];
  readonly sources: readonly SourceSpec[];
}

/**
 * A workspace function the target deploys beside its queries (a KQL parser): its body is the file
 * `kql/functions/<name>.kql`; its output columns, declared here, type the mapping and stand for the body when a
 * query is checked (binding the body is slow). A test checks the columns against what the body returns.
 */
export interface TargetFunction {
  readonly name: string;
  /** What it returns, for people (the ARM saved search's display name is `<name>: <description>`). */
  readonly description: string;
  readonly columns: readonly ColumnSchema[];
}

/** The columns of a result row the hunt reads (hit keys, event time, the sample, the incident's host). */
export interface HuntColumns {
  /** Columns that identify an event (device, time, event id, process, file…), in the order the hit key takes them. */
  readonly identity: readonly string[];
  /** Columns holding the event time, best first. */
  readonly time: readonly string[];
  /** Columns naming the host, best first (the incident title, the Host entity). */
  readonly host: readonly string[];
  /** Columns that may hold the SHA-256 of the file behind a hit, best first. */
  readonly sampleHash: readonly string[];
}

/** Everything about one target. */
export interface TargetDefinition extends TargetMapping {
  /** How people call it: `Defender XDR`, `ASIM`, `auditd (Syslog)`. */
  readonly title: string;
  /**
   * The names of the tables (and functions) the target reads, a pattern without anchors: recognises the target's
   * tables in a query the workspace refused (deploy advice) and, for a target that reads tables, its data files in
   * a local workspace folder (a target that reads workspace functions is recognised by their files).
   */
  readonly tables: RegExp;
  /** What to enable when the workspace lacks one of those tables (deploy advice: `enable <connector>`). */
  readonly connector: string;
  /** Workspace functions the target deploys (auditd's `ShmhuntAuditd`); none for most targets. */
  readonly functions: readonly TargetFunction[];
  readonly hunt: HuntColumns;
}
