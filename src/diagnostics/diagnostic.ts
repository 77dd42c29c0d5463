import type { Span } from "./span.js";

export type Severity = "error" | "warning" | "info";

/**
 * A user-facing finding with a stable code (see codes.ts), a message, and where it is:
 * a file, a span in it, and/or the field (a dotted key such as `rule.threat[0].tactic.id`).
 */
export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file?: string;
  readonly span?: Span;
  readonly field?: string;
  /** What the reader can do about it. */
  readonly hint?: string;
}

/** `file:line:column: error CODE: message (field)` — the one-line form used on stderr and in CI logs. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.file, d.span ? `${d.span.start.line}:${d.span.start.column}` : undefined]
    .filter((part) => part !== undefined)
    .join(":");
  const field = d.field ? ` (${d.field})` : "";
  const hint = d.hint ? ` — ${d.hint}` : "";
  return `${where ? `${where}: ` : ""}${d.severity} ${d.code}: ${d.message}${field}${hint}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** An error that carries diagnostics; thrown where a caller cannot go on (a rule that does not parse). */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "DiagnosticError";
  }
}
