/**
 * `shmhunt serve` / `npm start`: builds the services and the fastify host, listens, runs the hunt schedule in
 * process, and shuts down gracefully on SIGTERM/SIGINT (stop the schedule, finish requests, close stores).
 */
import type { FastifyInstance } from "fastify";
import { createServices, type ServiceOverrides } from "../app/compose.js";
import { redactedConfig, type ServiceConfig } from "../app/config.js";
import { type Schedule, startSchedule } from "../app/scheduler.js";
import { type HuntLogger, silentLogger } from "../hunt/run.js";
import { buildServer } from "./app.js";
import { assertAuthConfigured } from "./auth.js";

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://host:port` */
  readonly url: string;
  /** Stops the schedule, drains in-flight requests, closes the services. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly overrides?: ServiceOverrides;
  /** Install SIGTERM/SIGINT handlers (the CLI does; tests do not). */
  readonly handleSignals?: boolean;
  readonly logStream?: NodeJS.WritableStream;
}

export async function startServer(config: ServiceConfig, options: StartOptions = {}): Promise<RunningServer> {
  assertAuthConfigured({ host: config.host, apiKeys: config.apiKeys, ...(config.entra ? { entra: true } : {}) });
  // The hunt logs through the app's pino logger, which exists only once the app is built.
  let log: HuntLogger = silentLogger;
  const logger: HuntLogger = {
    info: (fields, message) => log.info(fields, message),
    warn: (fields, message) => log.warn(fields, message),
    error: (fields, message) => log.error(fields, message),
  };
  const services = await createServices(config, { logger, ...options.overrides });
  const app = await buildServer(services, {
    host: config.host,
    apiKeys: config.apiKeys,
    ...(config.entra ? { entra: config.entra } : {}),
    maxBodyBytes: config.maxBodyBytes,
    maxSampleBytes: config.maxSampleBytes,
    http: config.http,
    allowedHosts: config.allowedHosts,
    logger: { level: config.logLevel, ...(options.logStream ? { stream: options.logStream } : {}) },
  });
  log = app.log;
  // While shutting down, answers close their connection, so a keep-alive client does not hold the close up.
  let draining = false;
  app.addHook("onSend", async (_request, reply) => {
    if (draining) reply.header("connection", "close");
  });
  app.log.info({ config: redactedConfig(config) }, "shmhunt starting");
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;

  let schedule: Schedule | undefined;
  if (config.huntTickMs > 0) {
    schedule = startSchedule(
      config.huntTickMs,
      async () => {
        const retried = await services.samples.retryScans();
        if (retried > 0) app.log.info({ retried }, "failed sample scans retried");
        const report = await services.hunt.tick();
        if (report) app.log.info({ runs: report.runs.length, sweep: report.sweep }, "scheduled hunt tick done");
      },
      (error) =>
        app.log.warn({ error: error instanceof Error ? error.message : String(error) }, "scheduled hunt tick failed"),
    );
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      app.log.info("shmhunt shutting down");
      draining = true;
      await schedule?.stop();
      await app.close();
      await services.close();
    })();
    return closing;
  };
  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      app.log.info({ signal }, "signal received");
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { app, url, close };
}
