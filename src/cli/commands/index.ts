import type { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

/**
 * Every CLI command, by name; each module registers one. Loaded on demand: a run of one command imports only that
 * command's module (and what it needs), not every service of the CLI (Kusto.Language, the Azure SDK, …). The
 * imports are literal, so the layer check still sees them.
 */
export const commandLoaders: Readonly<Record<string, () => Promise<RegisterCommand>>> = {
  validate: async () => (await import("./validate.js")).registerValidate,
  translate: async () => (await import("./translate.js")).registerTranslate,
  eql: async () => (await import("./eql.js")).registerEql,
  kql: async () => (await import("./kql.js")).registerKql,
  scan: async () => (await import("./scan.js")).registerScan,
  deploy: async () => (await import("./deploy.js")).registerDeploy,
  hunt: async () => (await import("./hunt.js")).registerHunt,
  hits: async () => (await import("./hits.js")).registerHits,
  rescan: async () => (await import("./rescan.js")).registerRescan,
  serve: async () => (await import("./serve.js")).registerServe,
};
