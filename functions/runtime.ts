/**
 * The Functions app's services, built once per worker on first use. Everything behind this is imported
 * lazily, so loading the app (cold start) loads only @azure/functions and these adapters.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Services } from "../src/app/services.js";

let services: Promise<Services> | undefined;

export function getServices(): Promise<Services> {
  services ??= (async () => {
    const [{ loadConfig }, { createServices }] = await Promise.all([
      import("../src/app/config.js"),
      import("../src/app/compose.js"),
    ]);
    // Relative settings (rules/, kql/) resolve against the app's root, not the host's working directory.
    return createServices(loadConfig(process.env, appRoot()));
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
