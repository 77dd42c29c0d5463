/**
 * What the emulator needs from a KQL engine, so routes do not depend on how it is built: check a query against a
 * workspace's schema (tables, functions from saved searches, watchlists), and run it over the workspace's rows.
 * `engine.ts` provides the real one (Kusto.Language for checking, the project's workspace engine for running).
 */
import type { ColumnSchema, WorkspaceState } from "./state.js";

export type QueryProblemKind = "syntax" | "semantic" | "unknownTable" | "unsupported";

/** A reason a query cannot run, with where it is (1-based line, 1-based column) when known. */
export interface QueryProblem {
  readonly kind: QueryProblemKind;
  /** The service's innermost code: SYN0002 for syntax, SEM0100 for semantic errors. */
  readonly code: string;
  readonly message: string;
  readonly line?: number;
  readonly pos?: number;
  readonly token?: string;
}

export class QueryProblemError extends Error {
  constructor(readonly problem: QueryProblem) {
    super(problem.message);
    this.name = "QueryProblemError";
  }
}

export interface ResultTable {
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
  /** Values as the engine holds them; the Logs route encodes them for the wire. */
  readonly rows: readonly (readonly unknown[])[];
}

export interface QueryRun {
  readonly tables: readonly ResultTable[];
}

export interface QueryEngine {
  /** Problems that stop the query from running, first first; empty when it is valid for this workspace. */
  check(query: string, workspace: WorkspaceState): readonly QueryProblem[];
  /**
   * Runs the query over the workspace's tables as they are at `now` (rows that have not arrived yet are not there),
   * each limited to `interval` on TimeGenerated.
   */
  run(
    query: string,
    workspace: WorkspaceState,
    options: { readonly interval?: { start: Date; end: Date }; readonly now?: Date },
  ): Promise<QueryRun>;
}
