/** What a rejected promise was refused with, for tests of a reader's limits and errors. */
import { expect } from "vitest";
import { DiagnosticError, formatDiagnostic } from "../../src/diagnostics/index.js";

/** The one diagnostic of the DiagnosticError `promise` rejects with, as the CLI prints it (`file:line:column: …`). */
export async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DiagnosticError);
  const diagnostics = (error as DiagnosticError).diagnostics;
  expect(diagnostics).toHaveLength(1);
  return formatDiagnostic(diagnostics[0] as DiagnosticError["diagnostics"][number]);
}

/** The one diagnostic of the DiagnosticError `work` throws (a parser's refusal), as it is. */
export function thrownDiagnostic(work: () => unknown): DiagnosticError["diagnostics"][number] {
  let error: unknown;
  try {
    work();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DiagnosticError);
  const diagnostics = (error as DiagnosticError).diagnostics;
  expect(diagnostics).toHaveLength(1);
  return diagnostics[0] as DiagnosticError["diagnostics"][number];
}
