/**
 * Builds the services from the configuration: the composition root shared by `shmhunt serve`, `shmhunt hunt`
 * and the Azure Functions app. Every heavy module (Azure SDK clients, the YARA binding, the rule loader) is
 * imported lazily, on first use, so that importing an entry point stays cheap.
 */

import { mkdir } from "node:fs/promises";
import { SampleBroker } from "../broker/index.js";
import { HuntState } from "../hunt/hunt-state.js";
import { LocalAlertWriter } from "../hunt/local-alerts.js";
import { type HuntLogger, silentLogger } from "../hunt/run.js";
import type { HuntPlan } from "../hunt/types.js";
import type { DefenderApi } from "../sentinel/defender-types.js";
import type { AlertWriter } from "../sentinel/incidents.js";
import type { QueryRunner } from "../sentinel/logs-query.js";
import { SampleIndex } from "../store/sample-index.js";
import { createSampleStore, createStateStore } from "../store/storage-clients.js";
import { makeTempFolder, removeStaleTempFolders } from "../store/temp-folder.js";
import type { ServiceConfig } from "./config.js";
import { lazyDeployService } from "./deploy-service.js";
import { exclusionWatchlists, LocalWorkspaceQueryRunner } from "./local-queries.js";
import { kqlFilePlans } from "./plans.js";
import {
  type DeployService,
  HuntService,
  type SampleScanner,
  SampleService,
  type Services,
  type TranslateService,
} from "./services.js";

/** Parts a caller (a test, a later stage) may supply instead of the ones built from the configuration. */
export interface ServiceOverrides {
  readonly clock?: () => Date;
  readonly logger?: HuntLogger;
  readonly queries?: QueryRunner;
  readonly alerts?: AlertWriter;
  readonly plans?: () => Promise<readonly HuntPlan[]>;
  /** null: no scanner at all. */
  readonly scanner?: (() => Promise<SampleScanner>) | null;
  readonly translate?: TranslateService;
  readonly deploy?: DeployService;
  /** The Defender API the sample broker calls (a test's client of the emulator); the broker is on when given. */
  readonly defender?: DefenderApi;
}

/** How long a scanner that failed to start is not tried again. */
const SCANNER_RETRY_MS = 5_000;

export async function createServices(config: ServiceConfig, overrides: ServiceOverrides = {}): Promise<Services> {
  const clock = overrides.clock ?? (() => new Date());
  const logger = overrides.logger ?? silentLogger;
  const state = new HuntState(await createStateStore(config.state));
  const sampleStore = await createSampleStore(config.samples, config.tmpDir);
  const queries = overrides.queries ?? (await logAnalyticsRunner(config)) ?? localWorkspaceRunner(config);
  const alerts = overrides.alerts ?? (await sentinelWriter(config)) ?? new LocalAlertWriter(state, clock);
  const plans = overrides.plans ?? (() => kqlFilePlans(config.rulesDir, config.kqlDir, config.huntTargets, logger));
  const hunt = new HuntService({ state, queries, alerts, clock, logger, maxCatchUpMs: config.maxCatchUpMs }, plans);

  let scannerPromise: Promise<SampleScanner> | undefined;
  const scannerFactory =
    overrides.scanner === null
      ? undefined
      : (overrides.scanner ??
        (async () => {
          const { createScanner } = await import("../yara/scanner.js");
          return createScanner({
            rules: [config.rulesDir],
            maxSampleSize: config.maxSampleBytes,
            timeoutMs: config.scanTimeoutMs,
            workers: config.scanWorkers,
            tempFolder: () => makeTempFolder("sample", config.tmpDir),
          });
        }));
  // A scanner that failed to start (rules that never compiled) is tried again after a pause, not on every request:
  // /health is open and asks for it.
  const scanner = scannerFactory
    ? () => {
        scannerPromise ??= scannerFactory().catch((error: unknown) => {
          setTimeout(() => {
            scannerPromise = undefined;
          }, SCANNER_RETRY_MS).unref();
          throw error;
        });
        return scannerPromise;
      }
    : undefined;
  const deploy = overrides.deploy ?? lazyDeployService(config);
  const index = new SampleIndex(state.store);
  // Temporary files (uploads, broker downloads, blob copies, YARA's spool) go into their own folder; what a killed
  // process left there is removed now.
  await mkdir(config.tmpDir, { recursive: true });
  await removeStaleTempFolders(config.tmpDir);
  const samples = new SampleService(
    sampleStore,
    state,
    hunt,
    scanner,
    {
      maxBytes: config.maxSampleBytes,
      clock,
      tmpDir: config.tmpDir,
      scanRetries: config.scanRetries,
      scanRetryBackoffMs: config.scanRetryBackoffMs,
      logger,
    },
    index,
  );
  // The rescan scans with the samples' scanner; the hunt runs carry a batch of it (SHMHUNT_RESCAN_BATCH).
  if (scanner) hunt.attachRescan(() => samples.rescanSource(), config.rescanBatch);
  const defender = overrides.defender ?? (config.broker ? await defenderClient(config) : undefined);
  const broker = defender
    ? new SampleBroker({
        defender,
        state,
        samples: sampleStore,
        index,
        ingest: async (file, names) => {
          await samples.ingestFile(file, names);
        },
        ingestStored: (sha256, locator) => samples.settleWith(sha256, locator),
        clock,
        logger,
        tmpDir: config.tmpDir,
        ...(config.broker
          ? {
              policy: {
                ...(config.broker.maxGlobalPrevalence !== undefined
                  ? { maxGlobalPrevalence: config.broker.maxGlobalPrevalence }
                  : {}),
                ...(config.broker.maxOrgPrevalence !== undefined
                  ? { maxOrgPrevalence: config.broker.maxOrgPrevalence }
                  : {}),
                skipValidlySigned: config.broker.skipValidlySigned,
              },
            }
          : {}),
        limits: {
          maxBytes: config.maxSampleBytes,
          ...(config.broker
            ? { maxStartsPerTick: config.broker.maxStartsPerTick, maxActive: config.broker.maxActive }
            : {}),
        },
      })
    : undefined;
  if (broker) hunt.attachBroker(broker);

  return {
    config,
    clock,
    state,
    sampleStore,
    hunt,
    samples,
    translate: overrides.translate ?? lazyTranslateService(),
    ...(deploy ? { deploy } : {}),
    ...(broker ? { broker } : {}),
    backends: {
      state: config.state.kind,
      samples: config.samples.kind,
      queries: overrides.queries ? "custom" : config.logAnalyticsWorkspaceId ? "log-analytics" : "local-workspace",
      alerts: overrides.alerts ? "custom" : config.sentinel ? "sentinel" : "local",
      scanner: scanner ? "yara-x" : "none",
      broker: broker ? "defender" : "off",
    },
    async close() {
      await hunt.idle();
      if (scannerPromise) await (await scannerPromise.catch(() => undefined))?.close();
      await state.close();
    },
  };
}

/**
 * The translator (src/kql), loaded on first use. A refusal is a TranslationRefusedError whose code the error table
 * (errors.ts) answers with 422: the request's fault, not the server's.
 */
function lazyTranslateService(): TranslateService {
  let service: Promise<TranslateService> | undefined;
  return {
    async translate(request) {
      service ??= import("../kql/service.js").then((m) => m.createTranslateService());
      return (await service).translate(request);
    },
  };
}

async function credential(config: ServiceConfig) {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential(
    config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {},
  );
}

/**
 * The Defender for Endpoint client of the sample broker: the app's identity, application permissions
 * Machine.LiveResponse, Machine.Read.All and File.Read.All (docs/service.md). Few retries: a throttled step is
 * taken again at the next tick rather than holding the run.
 */
async function defenderClient(config: ServiceConfig): Promise<DefenderApi | undefined> {
  if (!config.broker) return undefined;
  const { DefenderClient } = await import("../sentinel/defender-client.js");
  return new DefenderClient({
    credential: await credential(config),
    baseUrl: config.broker.defenderUrl,
    maxRetries: 2,
    maxRetryAfterSeconds: 60,
  });
}

async function logAnalyticsRunner(config: ServiceConfig): Promise<QueryRunner | undefined> {
  if (!config.logAnalyticsWorkspaceId) return undefined;
  const [{ LogsQueryClient }, { LogAnalyticsQueryRunner }] = await Promise.all([
    import("@azure/monitor-query-logs"),
    import("../sentinel/logs-query.js"),
  ]);
  return new LogAnalyticsQueryRunner(new LogsQueryClient(await credential(config)), config.logAnalyticsWorkspaceId, {
    serverTimeoutSeconds: config.queryTimeoutSeconds,
  });
}

function localWorkspaceRunner(config: ServiceConfig): QueryRunner {
  return new LocalWorkspaceQueryRunner(config.workspaceDir, async () => {
    const { loadRules } = await import("../rules/loader.js");
    return exclusionWatchlists((await loadRules(config.rulesDir)).rules);
  });
}

async function sentinelWriter(config: ServiceConfig): Promise<AlertWriter | undefined> {
  if (!config.sentinel) return undefined;
  const [{ incidentClient }, { SentinelAlertWriter }] = await Promise.all([
    import("../sentinel/clients.js"),
    import("../sentinel/incidents.js"),
  ]);
  const { subscriptionId, resourceGroup, workspaceName } = config.sentinel;
  return new SentinelAlertWriter(
    // The preview API, named: bookmarks carry entity mappings, tactics and techniques only there (content-types.ts).
    incidentClient(await credential(config), subscriptionId),
    resourceGroup,
    workspaceName,
  );
}
