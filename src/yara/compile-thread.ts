/**
 * Compiles YARA rule files off the caller's thread, so that a large rule set (tens of thousands of rules take
 * seconds) never blocks the event loop that serves requests. A short-lived child process runs `compileYaraRules`
 * (compile.ts) and sends back the compiled set (structured-clone IPC: the serialised rules travel as bytes) or the
 * diagnostics of its failure. A child process rather than a worker thread: it loads from source through tsx the way
 * the scan workers do (pool.ts), and an engine crash while compiling takes down the child, not the service.
 */
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Diagnostic, DiagnosticError } from "../diagnostics/index.js";
import { localChildEnvironment } from "../processes/child-environment.js";
import { type CompiledRuleSet, compileYaraRules, type YaraCompileOptions } from "./compile.js";

interface Job {
  readonly paths: readonly string[];
  readonly options: YaraCompileOptions;
}

type Answer =
  | { readonly ok: true; readonly rules: CompiledRuleSet }
  | { readonly ok: false; readonly diagnostics?: readonly Diagnostic[]; readonly message: string };

/** Compiles in a child process; rejects with the same DiagnosticError compileYaraRules throws. */
export function compileYaraRulesOffThread(
  paths: readonly string[],
  options: YaraCompileOptions = {},
): Promise<CompiledRuleSet> {
  const { file, execArgv } = childEntry();
  return new Promise((resolve, reject) => {
    const child = fork(file, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: localChildEnvironment(),
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString();
    });
    let answered = false;
    child.once("message", (answer: Answer) => {
      answered = true;
      if (answer.ok) resolve(answer.rules);
      else reject(answer.diagnostics ? new DiagnosticError([...answer.diagnostics]) : new Error(answer.message));
      child.kill();
    });
    child.once("error", (error) => {
      if (!answered) reject(error);
    });
    child.once("exit", (code, signal) => {
      if (!answered) {
        reject(new Error(`the YARA compile process exited (${signal ?? code}) without an answer: ${stderr.trim()}`));
      }
    });
    child.send({ paths, options } satisfies Job);
  });
}

/** This module, compiled (`.js` in dist) or `.ts` through tsx when running from source. */
function childEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./compile-thread.js", import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { file: fileURLToPath(new URL("./compile-thread.ts", import.meta.url)), execArgv: ["--import", tsx] };
}

/** In the child: one job, one answer, then exit. */
function serveOneJob(): void {
  process.once("message", (job: Job) => {
    let answer: Answer;
    try {
      answer = { ok: true, rules: compileYaraRules(job.paths, job.options) };
    } catch (error) {
      answer =
        error instanceof DiagnosticError
          ? { ok: false, diagnostics: error.diagnostics, message: error.message }
          : { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    process.send?.(answer, () => process.disconnect());
  });
}

// Run as a forked child (it has an IPC channel and is this module's entry), never when imported.
if (process.send && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) serveOneJob();
