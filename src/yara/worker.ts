/**
 * A scan worker process (forked by the scan pool). It holds one compiled rule set and scans one sample at a time.
 * If YARA-X aborts the process (a rule condition can), only this worker dies: the pool fails that scan and forks
 * a replacement.
 */
import { type BindingRules, loadYaraBinding } from "./binding.js";
import type { FromWorker, RulesMessage, ToWorker } from "./protocol.js";
import { SampleScanner } from "./sample.js";

let scanner: SampleScanner | undefined;
let rulesError: string | undefined;

function send(message: FromWorker): void {
  process.send?.(message);
}

function loadRules(message: RulesMessage): void {
  const { binding } = loadYaraBinding();
  let rules: BindingRules;
  if (message.serialized && binding.deserialize) rules = binding.deserialize(message.serialized);
  else rules = binding.compile(message.source, { defineVariables: message.externals });
  scanner = new SampleScanner(rules, message.id);
}

process.on("message", (message: ToWorker) => {
  if (message.type === "rules") {
    try {
      loadRules(message);
      rulesError = undefined;
    } catch (error) {
      scanner = undefined;
      rulesError = `cannot load the rules in the scan worker: ${error instanceof Error ? error.message : String(error)}`;
    }
    return;
  }
  const jobId = message.jobId;
  try {
    if (!scanner) throw new Error(rulesError ?? "no rules loaded in the scan worker");
    const verdict =
      message.target.kind === "path"
        ? scanner.scanPath(message.target.path, message.limits, message.target.displayPath)
        : scanner.scanBytes(message.target.data, message.limits);
    send({ type: "result", jobId, verdict });
  } catch (error) {
    send({ type: "failed", jobId, message: error instanceof Error ? error.message : String(error) });
  }
});

process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
