/**
 * The shape of a target mapping: data that says where each ECS field lives on a target and what its values become.
 * One file per target in `mappings/`; the emitter reads only this.
 */
import type { KqlType } from "../kusto/schemas.js";

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
  /** The column is a command line and the field its argv list: matched per whitespace-separated token. */
  readonly argsOf?: "commandLine";
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
  /** EQL event categories this source holds, each with the extra KQL filter that selects it (null: none). */
  readonly categories: Readonly<Record<string, string | null>>;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export interface TargetMapping {
  readonly target: string;
  readonly description: string;
  /** Sentinel data connectors the target's tables come from (hunting-query YAML `requiredDataConnectors`). */
  readonly dataConnectors: readonly { readonly connectorId: string; readonly dataTypes: readonly string[] }[];
  readonly sources: readonly SourceSpec[];
}
