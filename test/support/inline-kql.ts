/**
 * The local KQL engine over inline data (`print`, `datatable`, `range`) at a fixed "now": the helpers of the tests
 * that hold the engine to the Kusto documentation (test/workspace/semantics, docs-rules, docs-examples).
 */
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { runInline, toRecords } from "../../src/workspace/index.js";

export function inlineKql(now = 0) {
  const rows = async (query: string): Promise<Record<string, unknown>[]> => toRecords(await runInline(query, { now }));
  /** The error a query fails with; a query that runs fails the test. */
  const failure = async (query: string): Promise<DiagnosticError> => {
    try {
      await runInline(query, { now });
    } catch (error) {
      if (error instanceof DiagnosticError) return error;
      throw error;
    }
    throw new Error("expected the query to fail");
  };
  return {
    rows,
    failure,
    column: async (query: string, name: string): Promise<unknown[]> => (await rows(query)).map((r) => r[name]),
    /** The value of `print r = <expr>`. */
    scalar: async (expr: string): Promise<unknown> => (await rows(`print r = ${expr}`))[0]?.r,
    /** The value of `print r = <expr>`, or the code of the first diagnostic it fails with. */
    outcome: async (expr: string): Promise<unknown> => {
      try {
        return (await rows(`print r = ${expr}`))[0]?.r;
      } catch (error) {
        if (error instanceof DiagnosticError) return error.diagnostics[0]?.code ?? "";
        throw error;
      }
    },
    /** The code of the first diagnostic `print r = <expr>` fails with. */
    failureCode: async (expr: string): Promise<string> =>
      (await failure(`print r = ${expr}`)).diagnostics[0]?.code ?? "",
  };
}
