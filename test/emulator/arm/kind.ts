/** What each Security Insights resource kind tells the generic handler of sentinel.ts. */
import type { ResourceCollection, WireResource, WorkspaceState } from "../state.js";
import type { ArmRequest } from "./context.js";

export interface WriteContext {
  readonly request: ArmRequest;
  readonly name: string;
  readonly id: string;
  readonly body: Record<string, unknown>;
  readonly previous: WireResource | undefined;
  /** The parent's name for child kinds (incident, watchlist alias). */
  readonly parent?: string;
}

export interface Kind {
  /** The label in error messages, e.g. "Alert rule". */
  readonly label: string;
  /** The wire `type`. */
  readonly type: string;
  collection(workspace: WorkspaceState, parent?: string): ResourceCollection;
  /** Checks the body and builds the stored resource (etag set by the caller). */
  write(context: WriteContext): WireResource;
  /** Read-time fields that depend on other resources (counts, back references). */
  present?(resource: WireResource, workspace: WorkspaceState): WireResource;
  afterDelete?(workspace: WorkspaceState, name: string, parent?: string): void;
  /** Whether PATCH (a merge of properties) is allowed. */
  readonly patch?: boolean;
}

/** The properties without the read-only ones a client may echo back. */
export function stripReadOnly(properties: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !names.includes(key)));
}
