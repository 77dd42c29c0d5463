/**
 * Fault injection, set per test. A fault matches requests by API (arm | logs), method and a path pattern, and
 * fires for `count` matching requests (default 1), then is spent. Tests push faults directly on the in-process
 * emulator (`emulator.faults.push({...})`); `npm run emulator` also exposes them over `/_emulator/faults`.
 */

export type Api = "arm" | "logs" | "defender";

export interface FaultScope {
  /** Which API: ARM (management), Log Analytics (`/v1/...`) or Defender (`/api/...`, its download links). Any when absent. */
  readonly api?: Api;
  /** HTTP method, case-insensitive. Any when absent. */
  readonly method?: string;
  /** A substring of the path (case-insensitive) or a regular expression over it. Any when absent. */
  readonly path?: string | RegExp;
  /** How many matching requests it affects; `Infinity` for all. Default 1. */
  readonly count?: number;
}

export type FaultEffect =
  /** 429 with `Retry-After: retryAfterSeconds` (default 1). */
  | { readonly kind: "throttle"; readonly retryAfterSeconds?: number }
  /** An error status (500, 502, 503, …) with the API's error body. */
  | { readonly kind: "status"; readonly status: number; readonly code?: string; readonly message?: string }
  /** Waits `delayMs`, then answers 504 Gateway Timeout. */
  | { readonly kind: "gatewayTimeout"; readonly delayMs: number }
  /** Logs only: runs the query, keeps at most `keepRows` rows (default all) and adds the `error` member (HTTP 200). */
  | { readonly kind: "partial"; readonly keepRows?: number; readonly message?: string }
  /** Waits `delayMs`, then answers normally (Logs: a 504 instead if the delay passes the `Prefer: wait`). */
  | { readonly kind: "slow"; readonly delayMs: number };

export type Fault = FaultScope & FaultEffect;

export interface RequestInfo {
  readonly api: Api;
  readonly method: string;
  readonly path: string;
}

interface ArmedFault {
  readonly fault: Fault;
  remaining: number;
}

export class FaultInjector {
  private readonly armed: ArmedFault[] = [];

  /** Arms one or more faults; they fire in the order pushed. */
  push(...faults: Fault[]): void {
    for (const fault of faults) this.armed.push({ fault, remaining: fault.count ?? 1 });
  }

  /** Disarms every fault. */
  clear(): void {
    this.armed.length = 0;
  }

  /** Faults still armed (with the number of requests each will still affect). */
  pending(): readonly { readonly fault: Fault; readonly remaining: number }[] {
    return this.armed.filter((a) => a.remaining > 0).map((a) => ({ fault: a.fault, remaining: a.remaining }));
  }

  /** The fault for this request, if one of `kinds` (default any) is armed for it; spends one of its uses. */
  take(request: RequestInfo, kinds?: readonly Fault["kind"][]): Fault | undefined {
    const index = this.armed.findIndex(
      (a) => a.remaining > 0 && (!kinds || kinds.includes(a.fault.kind)) && matches(a.fault, request),
    );
    if (index < 0) return undefined;
    const entry = this.armed[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.armed.splice(index, 1);
    return entry.fault;
  }
}

function matches(scope: FaultScope, request: RequestInfo): boolean {
  if (scope.api && scope.api !== request.api) return false;
  if (scope.method && scope.method.toUpperCase() !== request.method.toUpperCase()) return false;
  if (scope.path instanceof RegExp) return scope.path.test(request.path);
  if (typeof scope.path === "string") return request.path.toLowerCase().includes(scope.path.toLowerCase());
  return true;
}

/** Parses a fault sent as JSON over the control API (`path` as a plain substring). */
export function faultFromJson(value: unknown): Fault {
  if (typeof value !== "object" || value === null) throw new Error("a fault must be a JSON object");
  const kind = (value as { kind?: unknown }).kind;
  const kinds = ["throttle", "status", "gatewayTimeout", "partial", "slow"];
  if (typeof kind !== "string" || !kinds.includes(kind))
    throw new Error(`fault.kind must be one of ${kinds.join(", ")}`);
  const count = (value as { count?: unknown }).count;
  if (count !== undefined && count !== null && typeof count !== "number")
    throw new Error("fault.count must be a number");
  return { ...(value as Fault), count: count === null ? Number.POSITIVE_INFINITY : (count as number | undefined) };
}
