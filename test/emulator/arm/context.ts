import type { QueryEngine } from "../query-engine.js";
import type { WorkspaceState } from "../state.js";

/** What an ARM route gets for one request under a workspace. */
export interface ArmRequest {
  readonly method: string;
  readonly workspace: WorkspaceState;
  /** Path segments after `.../workspaces/{name}`, URL-decoded. */
  readonly rest: readonly string[];
  /** The absolute request URL (for nextLink). */
  readonly url: URL;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly now: Date;
  readonly engine: QueryEngine;
  readonly pageSize: number;
}

/** The identity the emulator writes into createdBy / updatedBy / owner fields. */
export const EMULATOR_USER = {
  objectId: "2046feea-040d-4a46-9e2b-91c2941bfa70",
  email: "analyst@shmhunt.local",
  name: "shmhunt emulator",
} as const;

export const TENANT_ID = "00000000-0000-0000-0000-000000000000";
