/**
 * The Function App's settings checked against Microsoft's documentation of the Functions host (the oracle is the
 * documentation quoted beside each check, not the project's own code).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { infraDir, literalValue, loadBicep, property, propertyPath, repoRoot } from "./bicep.js";

const main = loadBicep(path.join(infraDir, "main.bicep"));
const app = loadBicep(path.join(infraDir, "modules/function-app.bicep"));

describe("the Functions host's request body limit", () => {
  // Oracle: "Stream HTTP requests and responses in Node.js Azure Functions"
  // (https://learn.microsoft.com/azure/azure-functions/node-http-stream): "If you plan to stream large amounts of
  // data, modify the FUNCTIONS_REQUEST_BODY_SIZE_LIMIT setting in Azure. The default maximum body size allowed is
  // 104857600, which limits your requests to a size of about 100 MB." And "App settings reference for Azure
  // Functions" (functions-app-settings#functions_request_body_size_limit): "Overrides the default limit on the body
  // size of requests sent to HTTP endpoints. The value is given in bytes, with a default maximum request size of
  // 104,857,600 bytes." (The setting is not among the "Flex Consumption plan deprecations" of that page.)
  // Samples are uploaded as the raw body of POST /api/samples and /api/scan, up to maxSampleBytes (default
  // 256 MiB): without the setting the host refuses every sample over 100 MB before the service sees it.
  const HOST_DEFAULT_LIMIT = 104_857_600;

  it("the default sample limit is over the host's default, so the host's limit must be raised", () => {
    expect(Number(literalValue(main.params.get("maxSampleBytes")?.defaultValue, main))).toBeGreaterThan(
      HOST_DEFAULT_LIMIT,
    );
  });

  it("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is set from the largest body the service accepts (a sample or a JSON body)", () => {
    const setting = property(app.variables.get("platformSettings")?.value, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT");
    expect(setting?.text).toBe("string(maxRequestBodyBytes)");
    const passed = propertyPath(main.modules.get("functionApp")?.body, "params.maxRequestBodyBytes");
    expect(passed?.text.replace(/\s+/g, "")).toBe("max(maxSampleBytes,maxBodyBytes)");
  });
});

describe("the Flex Consumption scale-out limit", () => {
  // Oracle: Microsoft Learn, "Azure Functions Flex Consumption plan hosting"
  // (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#considerations): "Scale: The lowest
  // maximum scale is currently `1`. The highest currently supported value is `1000`." And "Event-driven scaling in
  // Azure Functions" (https://learn.microsoft.com/azure/azure-functions/event-driven-scaling?pivots=flex-consumption-plan#limit-scale-out):
  // "Currently the lowest maximum instance count value is `1`, and the highest supported maximum instance count
  // value is `1000`." (Earlier revisions of the first page said `40`; the template must not refuse a cap the
  // platform accepts, such as 10 instances to bound cost or a downstream's throughput, nor accept one it refuses.)
  const LOWEST_MAXIMUM = 1;
  const HIGHEST_MAXIMUM = 1000;

  for (const [file, name] of [
    [main, "main.bicep"],
    [app, "modules/function-app.bicep"],
  ] as const) {
    it(`${name}: maximumInstanceCount accepts exactly ${LOWEST_MAXIMUM}-${HIGHEST_MAXIMUM}`, () => {
      const param = file.params.get("maximumInstanceCount");
      expect(Number(param?.decorators.get("minValue")?.[0]?.text), "@minValue").toBe(LOWEST_MAXIMUM);
      expect(Number(param?.decorators.get("maxValue")?.[0]?.text), "@maxValue").toBe(HIGHEST_MAXIMUM);
    });
  }

  it("docs/infra.md and the parameter descriptions state the same range", () => {
    const docs = readFileSync(path.join(repoRoot, "docs/infra.md"), "utf8");
    const row = docs.split("\n").find((line) => line.startsWith("| `maximumInstanceCount`"));
    expect(row).toContain(`${LOWEST_MAXIMUM}-${HIGHEST_MAXIMUM}`);
    for (const file of [main, app]) {
      const description = file.params.get("maximumInstanceCount")?.decorators.get("description")?.[0]?.text ?? "";
      expect(description, file.relative).toContain(`${LOWEST_MAXIMUM}-${HIGHEST_MAXIMUM}`);
    }
  });

  it("the site's scaleAndConcurrency.maximumInstanceCount is that parameter", () => {
    const site = app.resources.get("site");
    expect(
      propertyPath(site?.body, "properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount")?.text,
    ).toBe("maximumInstanceCount");
  });
});

describe("the Node version the docs name is the one deployed", () => {
  // Oracle: the template itself (functionAppConfig.runtime.version) and Microsoft Learn, "Azure Functions Flex
  // Consumption plan hosting", Supported language stack versions: "Node.js | Node.js 20, Node.js 22". The package
  // is built where `npm install` runs and carries native modules (re2 is a nan addon, built per Node ABI), so the
  // Node the docs tell users to build with must be the runtime's.
  const docs = readFileSync(path.join(repoRoot, "docs/infra.md"), "utf8");
  const runtime = String(
    literalValue(propertyPath(app.resources.get("site")?.body, "properties.functionAppConfig.runtime.version"), app),
  );

  it("the runtime is a Node version Flex Consumption supports", () => {
    expect(["20", "22"]).toContain(runtime);
  });

  it("docs/infra.md names only that Node major version", () => {
    const named = [...docs.matchAll(/\bNode(?:\.js)? (\d+)\b/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((v) => v !== runtime)).toEqual([]);
  });

  it("the header comments of the templates name that version", () => {
    for (const file of [main, app]) {
      const named = [...file.source.matchAll(/\(Linux, Node (\d+)/g)].map((m) => m[1]);
      expect(named, file.relative).toEqual([runtime]);
    }
  });
});

describe("the function timeout lets one hunt run's Logs query finish", () => {
  // Oracle: Microsoft Learn, "Azure Functions hosting options", Function app timeout duration
  // (includes/functions-timeout-duration.md): "When an execution exceeds this duration, a timeout error occurs and the
  // language worker process restarts." Flex Consumption plan: default 30 minutes, maximum "Unbounded", with "the grace
  // period given to a function execution is 60 minutes during scale in for the Flex Consumption and Premium plans".
  // The hunt moves a rule's checkpoint only once its window is settled (src/hunt/run.ts): a run the host cuts is run
  // again from the same checkpoint at the next tick, and would be cut again if its query alone can outlast the timeout,
  // so the window would never be hunted. The bound counted here is the runner's own (attempts x server timeout, plus
  // its back-off); the SDK pipeline's retries of a 5xx are not counted (how Log Analytics answers a server timeout is
  // not decided by the documents at hand).
  const host = JSON.parse(readFileSync(path.join(repoRoot, "host.json"), "utf8")) as { functionTimeout?: string };
  const hms = /^(\d{2}):(\d{2}):(\d{2})$/.exec(host.functionTimeout ?? "");
  const timeoutSeconds = hms ? Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3]) : Number.NaN;
  const FLEX_SCALE_IN_GRACE_SECONDS = 60 * 60;

  it("host.json sets functionTimeout (hh:mm:ss) within the Flex Consumption scale-in grace period", () => {
    expect(timeoutSeconds).toBeGreaterThan(0);
    expect(timeoutSeconds).toBeLessThanOrEqual(FLEX_SCALE_IN_GRACE_SECONDS);
  });

  it("the hunt timer's deadline is computed from functionTimeout as host.json sets it", async () => {
    const { FUNCTION_TIMEOUT_MS } = await import("../../functions/runtime.js");
    expect(FUNCTION_TIMEOUT_MS).toBe(timeoutSeconds * 1000);
  });

  it("at the largest queryTimeoutSeconds main.bicep accepts, the timer still has time to start rules", async () => {
    const { huntDeadline } = await import("../../src/app/hunt-deadline.js");
    const maxQuerySeconds = Number(main.params.get("queryTimeoutSeconds")?.decorators.get("maxValue")?.[0]?.text);
    const start = new Date(0);
    expect(huntDeadline(start, timeoutSeconds * 1000, maxQuerySeconds).getTime()).toBeGreaterThan(start.getTime());
  });

  it("the largest queryTimeoutSeconds main.bicep accepts, with every retry of the runner, fits in functionTimeout", async () => {
    const { DEFAULT_QUERY_RETRY } = await import("../../src/sentinel/logs-query.js");
    const maxQuerySeconds = Number(main.params.get("queryTimeoutSeconds")?.decorators.get("maxValue")?.[0]?.text);
    expect(maxQuerySeconds).toBeGreaterThan(0);
    let backoffMs = 0;
    for (let n = 1; n < DEFAULT_QUERY_RETRY.attempts; n++)
      backoffMs += Math.min(DEFAULT_QUERY_RETRY.maxDelayMs, DEFAULT_QUERY_RETRY.baseDelayMs * 2 ** (n - 1));
    const worstSeconds = DEFAULT_QUERY_RETRY.attempts * maxQuerySeconds + backoffMs / 1000;
    expect(worstSeconds).toBeLessThan(timeoutSeconds);
  });
});
