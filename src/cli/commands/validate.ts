import type { Command } from "commander";
import { validateContent } from "../../app/validate.js";
import { formatDiagnostic } from "../../diagnostics/index.js";
import { defaultValidatePaths } from "../../rules/validate.js";
import { CliError, createOutput } from "../output.js";

interface ValidateOptions {
  json?: boolean;
}

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check rule files (TOML), YARA rules and KQL files; exit 0 only when all are valid")
    .argument("[paths...]", "files or directories to check (default: rules/)")
    .option("--json", "one diagnostic per line (NDJSON)")
    .action(async (paths: string[], options: ValidateOptions) => {
      const out = createOutput(options);
      const targets = paths.length > 0 ? paths : defaultValidatePaths();
      const report = await validateContent(targets);
      if (report.files.length === 0 && report.general.length === 0) {
        throw new CliError(`nothing to validate in ${targets.join(", ")} (no .toml, .yar, .yara or .kql files)`);
      }
      const diagnostics = [...report.general, ...report.files.flatMap((f) => f.diagnostics)];
      for (const d of diagnostics) out.record(d, formatDiagnostic(d));
      const invalid = report.files.filter((f) => !f.valid).length;
      const errors = diagnostics.filter((d) => d.severity === "error").length;
      const warnings = diagnostics.filter((d) => d.severity === "warning").length;
      out.info(
        `${report.files.length} file${report.files.length === 1 ? "" : "s"} checked: ${report.files.length - invalid} valid, ${invalid} invalid (${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"})`,
      );
      if (!report.valid) {
        const first = diagnostics.find((d) => d.severity === "error");
        throw new CliError(
          `validation failed: ${errors} error${errors === 1 ? "" : "s"}${first ? `; first: ${formatDiagnostic(first)}` : ""}`,
        );
      }
    });
}
