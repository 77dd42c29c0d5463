import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildGlobals, kustoLanguage, listItems, loadSchemas, parseKql, validateKql } from "../../src/kusto/index.js";
import { sourceFunctions } from "../../src/targets/index.js";

describe("loadSchemas", () => {
  const schemas = loadSchemas();
  it("reads tables with typed columns, merging a table's files", () => {
    const dpe = schemas.tables.DeviceProcessEvents ?? [];
    expect(dpe.find((c) => c.name === "Timestamp")?.type).toBe("datetime");
    expect(dpe.find((c) => c.name === "TimeGenerated")?.type).toBe("datetime");
    expect(dpe.find((c) => c.name === "AdditionalFields")?.type).toBe("dynamic");
    expect(schemas.tables.Syslog?.some((c) => c.name === "SyslogMessage")).toBe(true);
    expect(schemas.tables.ASimFileEventLogs?.length).toBeGreaterThan(100);
    expect(schemas.tables.DeviceInfo?.every((c) => c.type !== ("boolean" as string))).toBe(true);
  });
  it("models ASIM parsers as functions under every alias", () => {
    expect(schemas.tables._Im_ProcessEvent).toBeUndefined();
    expect(schemas.functions._Im_ProcessEvent?.columns?.some((c) => c.name === "TargetProcessName")).toBe(true);
    expect(schemas.functions.imProcessCreate).toBeDefined();
    expect(schemas.functions._Im_FileEvent?.columns?.some((c) => c.name === "TargetFilePath")).toBe(true);
  });
});

describe("validateKql", () => {
  it("accepts a valid query over DeviceProcessEvents", () => {
    expect(
      validateKql(
        'DeviceProcessEvents\n| where FolderPath startswith "/dev/shm/" and AccountName == "root"\n| project Timestamp, DeviceName',
      ),
    ).toEqual([]);
  });

  it("reports an unknown column with its line and column", () => {
    const diags = validateKql('DeviceProcessEvents\n| where  NoSuchColumn == "x"');
    expect(diags).toHaveLength(1);
    const [d] = diags;
    expect(d?.code).toBe("KQL310");
    expect(d?.severity).toBe("error");
    expect(d?.message).toContain("NoSuchColumn");
    expect(d?.span?.start).toMatchObject({ line: 2, column: 10, offset: 29 });
    expect(d?.span?.end).toMatchObject({ line: 2, column: 22 });
  });

  it("reports an unknown table", () => {
    const diags = validateKql("NoSuchTable | take 1");
    expect(diags.map((d) => d.message).join()).toContain("NoSuchTable");
    expect(diags[0]?.span?.start).toMatchObject({ line: 1, column: 1 });
  });

  it("reports syntax errors", () => {
    expect(validateKql("DeviceProcessEvents | where (").length).toBeGreaterThan(0);
  });

  it("binds ASIM parsers as functions, with or without arguments", () => {
    expect(validateKql('_Im_ProcessEvent | where TargetProcessName endswith "/x"')).toEqual([]);
    const functions = [...sourceFunctions()];
    expect(
      validateKql("_Im_ProcessEvent(starttime=ago(1h)) | project TargetProcessName, DvcHostname", { functions }),
    ).toEqual([]);
    expect(validateKql("_Im_FileEvent | project TargetFilePath")).toEqual([]);
    expect(validateKql("_Im_ProcessEvent | project NoSuchColumn")).toHaveLength(1);
  });

  it("knows _GetWatchlist and its declared CSV columns", () => {
    expect(
      validateKql("_GetWatchlist('ex') | project SearchKey, WatchlistItem, _DTItemId, LastUpdatedTimeUTC"),
    ).toEqual([]);
    expect(validateKql("_GetWatchlist('ex') | project Process")).toHaveLength(1);
    expect(validateKql("_GetWatchlist('ex') | project Process", { watchlistColumns: ["Process"] })).toEqual([]);
  });

  it("binds declared workspace functions through their KQL body", () => {
    const functions = [
      { name: "ShmhuntAuditd", body: 'Syslog | extend exe = extract(@"exe=\\"([^\\"]+)\\"", 1, SyslogMessage)' },
    ];
    expect(validateKql('ShmhuntAuditd() | where exe == "/dev/shm/x"', { functions })).toEqual([]);
    expect(validateKql('ShmhuntAuditd() | where nope == "/dev/shm/x"', { functions })).toHaveLength(1);
    expect(validateKql("ShmhuntAuditd() | take 1")).toHaveLength(1);
  });

  it("accepts added tables and extra columns", () => {
    expect(
      validateKql("Custom_CL | where Foo > 1", { tables: { Custom_CL: [{ name: "Foo", type: "long" }] } }),
    ).toEqual([]);
    expect(
      validateKql("Syslog | project Extra", { extraColumns: { Syslog: [{ name: "Extra", type: "string" }] } }),
    ).toEqual([]);
  });

  it("parseKql returns the bound tree", () => {
    const code = parseKql("DeviceProcessEvents | take 1");
    expect(code.Syntax).toBeTruthy();
  });
});

describe("parseKql against Kusto.Language's own ParseAndAnalyze", () => {
  // The oracle is Microsoft's `KustoCode.ParseAndAnalyze`: parseKql skips only the grammar it builds and never uses.
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../kql");
  const generated = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".kql"))
    .map((f) => readFileSync(path.join(dir, f), "utf8"));
  const queries = [
    ...generated,
    'DeviceProcessEvents\n| where  NoSuchColumn == "x"',
    "DeviceProcessEvents | where | take",
    "let x = 1;\nDeviceProcessEvents | extend y = x + FolderPath | summarize count() by bin(Timestamp, 1h)",
    "NoSuchTable | take 1",
    '_Im_ProcessEvent(starttime=ago(1d)) | where TargetProcessName endswith "/sh" | project Missing',
    "print strlen(123)",
  ];
  const globals = buildGlobals({ functions: [...sourceFunctions()] });
  const view = (code: Kusto.Language.KustoCode) => ({
    diagnostics: listItems(code.GetDiagnostics()).map((d) => [d.Code, d.Severity, d.Start, d.Length, d.Message]),
    result: code.ResultType?.Name ?? null,
    tree: code.Syntax?.ToString(Kusto.Language.Syntax.IncludeTrivia.All) ?? null,
  });
  it.each(queries.map((q, i) => [i, q] as const))("query %i: same diagnostics, result type and tree", (_, q) => {
    const oracle = kustoLanguage().KustoCode.ParseAndAnalyze(q, globals);
    if (!oracle) throw new Error("no code");
    expect(view(parseKql(q, globals))).toEqual(view(oracle));
  });
});
