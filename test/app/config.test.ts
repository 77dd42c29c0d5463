import path from "node:path";
import { describe, expect, it } from "vitest";
import { isLoopback, loadConfig, redactedConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";

describe("service configuration", () => {
  it("defaults to the embedded, all-local setup", () => {
    const config = loadConfig({}, "/srv/app");
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
      apiKeys: [],
      rulesDir: "/srv/app/rules",
      kqlDir: "/srv/app/kql",
      huntTargets: ["defender"],
      state: { kind: "local", dir: "/srv/app/.shmhunt/state" },
      samples: { kind: "local", dir: "/srv/app/.shmhunt/samples" },
      workspaceDir: "/srv/app/.shmhunt/workspace",
      huntTickMs: 60_000,
      maxCatchUpMs: 24 * 3_600_000,
      maxSampleBytes: 256 * 1024 * 1024,
    });
    expect(config.sentinel).toBeUndefined();
    expect(config.logAnalyticsWorkspaceId).toBeUndefined();
  });

  it("uses Azure Storage with the managed identity when an account is named", () => {
    const config = loadConfig(
      { SHMHUNT_STORAGE_ACCOUNT: "shmhuntsa", AZURE_CLIENT_ID: "cid", SHMHUNT_SAMPLES_CONTAINER: "s2" },
      "/x",
    );
    expect(config.state).toEqual({
      kind: "table",
      table: "shmhuntstate",
      access: { url: "https://shmhuntsa.table.core.windows.net", managedIdentityClientId: "cid" },
    });
    expect(config.samples).toEqual({
      kind: "blob",
      container: "s2",
      access: { url: "https://shmhuntsa.blob.core.windows.net", managedIdentityClientId: "cid" },
    });
  });

  it("reads Sentinel and Log Analytics settings, all or nothing", () => {
    const config = loadConfig({
      SHMHUNT_WORKSPACE_ID: "11111111-2222-3333-4444-555555555555",
      SHMHUNT_SUBSCRIPTION_ID: "00000000-1111-2222-3333-444444444444",
      SHMHUNT_RESOURCE_GROUP: "rg",
      SHMHUNT_WORKSPACE_NAME: "ws",
    });
    expect(config.sentinel).toEqual({
      subscriptionId: "00000000-1111-2222-3333-444444444444",
      resourceGroup: "rg",
      workspaceName: "ws",
    });
    expect(() => loadConfig({ SHMHUNT_SUBSCRIPTION_ID: "00000000-1111-2222-3333-444444444444" })).toThrow(
      /go together/,
    );
  });

  it("names the setting in every error", () => {
    try {
      loadConfig({
        SHMHUNT_PORT: "http",
        SHMHUNT_HUNT_TICK: "often",
        SHMHUNT_WORKSPACE_ID: "ws-1",
        SHMHUNT_API_KEYS: "short",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DiagnosticError);
      const fields = (error as DiagnosticError).diagnostics.map((d) => d.field);
      expect(fields?.sort()).toEqual(["SHMHUNT_API_KEYS", "SHMHUNT_HUNT_TICK", "SHMHUNT_PORT", "SHMHUNT_WORKSPACE_ID"]);
      expect((error as DiagnosticError).diagnostics.every((d) => d.code === "SVC601")).toBe(true);
    }
  });

  it("refuses a port, a hunt target or a log level that cannot work, naming the setting", () => {
    // A TCP port is 0–65535 (RFC 793; Node's listen refuses more); the targets are docs/service.md's three; the
    // levels are pino's (trace, debug, info, warn, error, fatal, silent).
    const fieldsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env, "/srv/app");
      } catch (error) {
        expect(error).toBeInstanceOf(DiagnosticError);
        return (error as DiagnosticError).diagnostics.map((d) => `${d.code} ${d.field}: ${d.message}`);
      }
      return [];
    };
    expect(fieldsOf({ SHMHUNT_PORT: "99999" })).toEqual([expect.stringMatching(/^SVC601 SHMHUNT_PORT: .*65535/)]);
    expect(fieldsOf({ SHMHUNT_HUNT_TARGETS: "defender,windows" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HUNT_TARGETS: .*"windows".*defender, asim, auditd/),
    ]);
    expect(fieldsOf({ SHMHUNT_LOG_LEVEL: "loud" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_LOG_LEVEL: .*"loud"/),
    ]);
    expect(
      fieldsOf({ SHMHUNT_PORT: "65535", SHMHUNT_HUNT_TARGETS: "asim, auditd", SHMHUNT_LOG_LEVEL: "silent" }),
    ).toEqual([]);
  });

  it("keeps secrets out of what it shows", () => {
    const secret = "AccountKey=c2VjcmV0LXNlY3JldC1zZWNyZXQ=";
    const config = loadConfig({
      SHMHUNT_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=https;${secret}`,
      SHMHUNT_API_KEYS: "a-very-long-api-key-0001",
    });
    const shown = JSON.stringify(redactedConfig(config));
    expect(shown).not.toContain(secret);
    expect(shown).not.toContain("a-very-long-api-key-0001");
    expect(shown).toContain("[redacted]");
  });

  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "::1", "localhost", "127.0.0.2"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "example.org"].some(isLoopback)).toBe(false);
    expect(path.isAbsolute(loadConfig({}).rulesDir)).toBe(true);
  });
});
