/**
 * The Functions app's services, built once per worker on first use. Everything behind this is imported
 * lazily, so loading the app (cold start) loads only @azure/functions and these adapters.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { InvocationContext } from "@azure/functions";
import type { Services } from "../src/app/services.js";
import type { HuntLogger } from "../src/hunt/run.js";

/**
 * host.json's functionTimeout ("01:00:00"), which a test checks against the file (test/infra/functions-host.test.ts):
 * "When an execution exceeds this duration, a timeout error occurs and the language worker process restarts"
 * (Microsoft Learn, Azure Functions hosting options, function app timeout duration). The hunt timer starts no rule
 * late enough to be cut by it (src/app/hunt-deadline.ts).
 */
export const FUNCTION_TIMEOUT_MS = 60 * 60_000;

let services: Promise<Services> | undefined;

export function getServices(): Promise<Services> {
  services ??= (async () => {
    const [{ loadConfig }, { createServices }] = await Promise.all([
      import("../src/app/config.js"),
      import("../src/app/compose.js"),
    ]);
    // Relative settings (rules/, kql/) resolve against the app's root, not the host's working directory.
    const config = loadConfig(process.env, appRoot());
    return createServices(config, { logger: invocationLogger(config.logLevel) });
  })().catch((error: unknown) => {
    services = undefined;
    throw error;
  });
  return services;
}

/** For tests: use these services instead of building them from the environment. */
export function setServices(value: Services | undefined): void {
  services = value ? Promise.resolve(value) : undefined;
}

/** The folder holding package.json above this module (functions/ from source, dist/functions/ when built). */
export function appRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (dir !== path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** The invocation whose handler is running: the services, built once per worker, log to it. */
const invocation = new AsyncLocalStorage<InvocationContext>();

/** Runs a handler's work with its invocation's context as where the services' log lines go. */
export function inInvocation<T>(context: InvocationContext, work: () => Promise<T>): Promise<T> {
  return invocation.run(context, work);
}

/** pino's levels, as SHMHUNT_LOG_LEVEL names them, low to high. */
const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

/**
 * The services' logger on Functions (the hunt core, the rescan, the sample broker): each line, one JSON object, goes
 * to the invocation it is written in through context.info / warn / error, "the recommended way to log … during
 * invocation … [with] integration with Azure features like application insights" (Microsoft Learn, @azure/functions
 * InvocationContext class); a line written outside any invocation goes to the console. Lines under `level`
 * (SHMHUNT_LOG_LEVEL) are dropped; `silent` drops all. Without it, a hunt window clamped by the catch-up limit, a
 * failed Logs query or a failed rescan would be reported nowhere in Azure.
 */
export function invocationLogger(level: string): HuntLogger {
  const floor = level === "silent" ? LEVELS.length : Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]));
  const write = (at: "info" | "warn" | "error") => (fields: object, message: string) => {
    if (LEVELS.indexOf(at) < floor) return;
    const line = JSON.stringify({ ...fields, msg: message }, (_key, value: unknown) =>
      value instanceof Error ? value.message : typeof value === "bigint" ? String(value) : value,
    );
    const context = invocation.getStore();
    if (context) context[at](line);
    else console[at](line);
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}
