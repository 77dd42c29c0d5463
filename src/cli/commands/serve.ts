import type { Command } from "commander";
import { CliError, createOutput } from "../output.js";

interface ServeOptions {
  host?: string;
  port?: string;
  json?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "serve the HTTP API (OpenAPI at /docs) and run the hunt schedule in process; settings from SHMHUNT_* (docs/service.md)",
    )
    .option(
      "--host <address>",
      "listen address (default SHMHUNT_HOST or 127.0.0.1; beyond loopback SHMHUNT_API_KEYS is required)",
    )
    .option("--port <n>", "listen port (default SHMHUNT_PORT or 8080; 0 picks a free port)")
    .option("--json", "machine-readable output")
    .action(async (options: ServeOptions) => {
      const out = createOutput(options);
      const { loadConfig } = await import("../../app/config.js");
      const { startServer } = await import("../../server/start.js");
      const env = {
        ...process.env,
        ...(options.host !== undefined ? { SHMHUNT_HOST: options.host } : {}),
        ...(options.port !== undefined ? { SHMHUNT_PORT: options.port } : {}),
      };
      const config = loadConfig(env, process.cwd(), {
        ...(options.host !== undefined ? { SHMHUNT_HOST: "--host" } : {}),
        ...(options.port !== undefined ? { SHMHUNT_PORT: "--port" } : {}),
      });
      const server = await startServer(config, { handleSignals: true }).catch((error: unknown) => {
        throw new CliError(error instanceof Error ? error.message : String(error));
      });
      out.record(
        { listening: server.url, docs: `${server.url}/docs` },
        `shmhunt listening on ${server.url} (API docs: ${server.url}/docs)`,
      );
    });
}
