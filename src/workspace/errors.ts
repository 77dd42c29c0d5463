/** Errors of the workspace engine: WS500 unsupported (named, positioned), WS501 semantic, WS502 bad data. */
import { Codes, DiagnosticError, type Span } from "../diagnostics/index.js";

export function unsupported(what: string, span?: Span): DiagnosticError {
  return new DiagnosticError([
    {
      code: Codes.WsUnsupported,
      severity: "error",
      message: `not supported by the local workspace engine: ${what}`,
      ...(span ? { span } : {}),
    },
  ]);
}

export function semanticError(message: string, span?: Span): DiagnosticError {
  return new DiagnosticError([{ code: Codes.WsSemantic, severity: "error", message, ...(span ? { span } : {}) }]);
}

export function dataError(message: string, file?: string, span?: Span): DiagnosticError {
  return new DiagnosticError([
    { code: Codes.WsData, severity: "error", message, ...(file ? { file } : {}), ...(span ? { span } : {}) },
  ]);
}
