/**
 * The Functions app's services, built once per worker on first use. Everything behind this is imported
 * lazily, so loading the app (cold start) loads only @azure/functions and these adapters.
 */
import type { Services } from "../src/server/services.js";

let services: Promise<Services> | undefined;

export function getServices(): Promise<Services> {
  services ??= (async () => {
    const [{ loadConfig }, { createServices }] = await Promise.all([
      import("../src/server/config.js"),
      import("../src/server/compose.js"),
    ]);
    return createServices(loadConfig(process.env));
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
