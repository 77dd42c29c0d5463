/**
 * Walks the target registry (src/targets) and fails on any missing or wrong fact, so that adding a target is one
 * file plus its registration and a forgotten fact is a test failure. Types and columns are judged by the schemas
 * under schemas/ (Microsoft's, see schemas/SOURCES.md) and by Kusto.Language binding the target's own KQL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  buildGlobals,
  type ColumnSchema,
  type KqlType,
  listItems,
  parseKql,
  resolveSchemas,
  validateKql,
} from "../../src/kusto/index.js";
import {
  functionDeclaration,
  functionFile,
  functionWithBody,
  REGISTRY,
  TARGET_FUNCTIONS,
  TARGETS,
  type TargetDefinition,
  targetOfTable,
} from "../../src/targets/index.js";

const schemas = resolveSchemas();
const declared = { functions: TARGET_FUNCTIONS.map(functionDeclaration) };

/** A source's columns: a table or ASIM parser of schemas/, or one of the target's own functions. */
function columnsOf(def: TargetDefinition, schema: string): readonly ColumnSchema[] | undefined {
  return (
    def.functions.find((f) => f.name === schema)?.columns ??
    schemas.tables[schema] ??
    schemas.functions[schema]?.columns
  );
}

/** The columns (name:type) Kusto.Language gives the result of a query. */
function resultColumns(query: string, functions = declared.functions): string[] {
  const code = parseKql(query, buildGlobals({ functions })) as unknown as {
    ResultType: { Columns: Parameters<typeof listItems>[0] };
  };
  const columns = listItems(code.ResultType.Columns) as unknown as { Name: string; Type: { Name: string } }[];
  return columns.map((c) => `${c.Name}:${c.Type.Name}`);
}

const kqlErrors = (query: string): string[] => validateKql(query, declared).map((d) => d.message);

/** The target's `tables` pattern claims `table`, and no other registered target's does (as targetOfTable reads them). */
function recognises(name: string, def: TargetDefinition, table: string): boolean {
  const claims = (d: TargetDefinition) => new RegExp(`^(?:${d.tables.source})$`).test(table);
  return claims(def) && TARGETS.every((t) => t === name || !claims(REGISTRY[t]));
}

/** Every missing or wrong fact of one registry entry, as sentences (none for a complete entry). */
function problems(name: string, def: TargetDefinition): string[] {
  const out: string[] = [];
  const say = (what: string) => out.push(`${name}: ${what}`);
  if (def.target !== name) say(`registered as ${name} but names itself ${def.target}`);
  for (const [key, value] of Object.entries({
    title: def.title,
    description: def.description,
    connector: def.connector,
  }))
    if (!value.trim()) say(`no ${key}`);
  if (def.sources.length === 0) say("no sources");

  // Workspace functions: a body file under kql/functions that returns exactly the declared columns.
  for (const fn of def.functions) {
    if (!existsSync(functionFile(fn.name))) {
      say(`function ${fn.name}: no kql/functions/${fn.name}.kql`);
      continue;
    }
    const body = functionWithBody(fn).body ?? "";
    const errors = validateKql(body).map((d) => d.message);
    if (errors.length > 0) say(`function ${fn.name}: its body is not valid KQL: ${errors.join("; ")}`);
    const returned = resultColumns(`${fn.name}()`, [functionWithBody(fn)]).join(", ");
    const columns = fn.columns.map((c) => `${c.name}:${c.type}`).join(", ");
    if (returned !== columns) say(`function ${fn.name}: declares ${columns} but returns ${returned}`);
    if (!recognises(name, def, fn.name)) say(`tables does not recognise ${fn.name}`);
  }

  // Data connectors: each names tables of schemas/; a target reading tables or its own functions names one.
  for (const c of def.dataConnectors) {
    if (!c.connectorId) say("a data connector without an id");
    for (const table of c.dataTypes)
      if (!schemas.tables[table]) say(`data connector ${c.connectorId}: no schema for ${table}`);
  }
  const tablesRead = def.sources.filter((s) => schemas.tables[s.schema]).map((s) => s.schema);
  const connected = new Set(def.dataConnectors.flatMap((c) => c.dataTypes));
  for (const table of tablesRead) if (!connected.has(table)) say(`no data connector fills ${table}`);
  if (def.functions.length > 0 && def.dataConnectors.length === 0) say("deploys functions but names no data connector");

  const allColumns = new Map<string, KqlType>();
  for (const source of def.sources) {
    const where = `source ${source.from}`;
    const columns = columnsOf(def, source.schema);
    if (!columns) {
      say(`${where}: no schema ${source.schema} under schemas/ or among the target's functions`);
      continue;
    }
    const types = new Map(columns.map((c) => [c.name, c.type]));
    for (const [c, t] of types) allColumns.set(c, t);
    if (!recognises(name, def, source.schema)) say(`${where}: tables does not recognise ${source.schema}`);
    if (kqlErrors(`${source.from} | take 1`).length > 0) say(`${where}: does not bind`);
    if (types.get(source.time) !== "datetime") say(`${where}: time column ${source.time} is not a datetime column`);
    if (source.tiebreaker !== undefined && !types.has(source.tiebreaker))
      say(`${where}: no tiebreaker column ${source.tiebreaker}`);
    if (Object.keys(source.categories).length === 0) say(`${where}: holds no event category`);
    for (const [category, filter] of Object.entries(source.categories)) {
      if (filter !== null && kqlErrors(`${source.from} | where ${filter}`).length > 0)
        say(`${where}: the filter of category ${category} is not valid KQL`);
    }
    const stamp = source.fields["@timestamp"];
    if (stamp && stamp.column !== source.time) say(`${where}: @timestamp is not the time column ${source.time}`);
    for (const [field, spec] of Object.entries(source.fields)) {
      const at = `${where}, field ${field}`;
      const kinds = [spec.column, spec.expr, spec.constant].filter((x) => x !== undefined).length;
      if (kinds !== 1) say(`${at}: needs exactly one of column, expr, constant`);
      if (spec.column !== undefined) {
        const type = types.get(spec.column);
        if (type === undefined) say(`${at}: no column ${spec.column} in ${source.schema}`);
        else if ((spec.values || spec.argsOf) && type !== "string")
          say(`${at}: values and argv need a string column (${spec.column} is ${type})`);
      }
      if (spec.expr !== undefined) {
        const got = resultColumns(`${source.from} | project ShmhuntField = ${spec.expr}`);
        if (got.join() !== `ShmhuntField:${spec.type}`) say(`${at}: expr is ${got.join()} but declared ${spec.type}`);
      }
      for (const [value, condition] of Object.entries(spec.conditions ?? {})) {
        if (kqlErrors(`${source.from} | where ${condition}`).length > 0)
          say(`${at}: the condition for ${JSON.stringify(value)} is not valid KQL`);
      }
    }
  }

  // Hunt columns: each is a column of one of the sources, and the identity holds a time column.
  const { identity, time, host, sampleHash } = def.hunt;
  for (const [list, columns] of Object.entries({ identity, time, host, sampleHash })) {
    for (const column of columns) if (!allColumns.has(column)) say(`hunt.${list}: no source has a column ${column}`);
  }
  if (identity.length === 0 || time.length === 0 || host.length === 0) say("hunt: identity, time and host are needed");
  for (const column of time) if (allColumns.get(column) !== "datetime") say(`hunt.time: ${column} is not a datetime`);
  for (const column of sampleHash)
    if (allColumns.get(column) !== "string") say(`hunt.sampleHash: ${column} is not a string`);
  for (const source of def.sources) if (!time.includes(source.time)) say(`hunt.time: lacks ${source.time}`);
  if (!identity.some((c) => time.includes(c)))
    say("hunt.identity: holds no time column (hit keys would hash whole rows)");
  return out;
}

describe("the target registry", () => {
  for (const name of TARGETS) {
    it(`${name}: every fact is there and agrees with the schemas`, () => {
      expect(problems(name, REGISTRY[name])).toEqual([]);
    });
  }

  it("passes the walk with the target docs/targets.md adds as its one file", async () => {
    const repo = path.resolve(import.meta.dirname, "../..");
    const doc = readFileSync(path.join(repo, "docs/targets.md"), "utf8");
    const section = doc.split("## Adding a target")[1] ?? "";
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    if (!code) throw new Error("docs/targets.md: no ```ts block under 'Adding a target'");
    // The file as docs/targets.md shows it, beside the real src/targets modules it imports.
    const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-target-"));
    try {
      const file = path.join(dir, "windows.ts");
      const targets = `${path.join(repo, "src/targets")}/`;
      writeFileSync(file, code.replace(/from "\.\//g, `from "${targets}`));
      // biome-ignore lint/plugin: the doc's file, written at test time; src/ never imports by a computed name.
      const added = (await import(pathToFileURL(file).href)) as { windows: TargetDefinition };
      expect(problems("windows", added.windows)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives every table one target", () => {
    for (const name of TARGETS) {
      for (const source of REGISTRY[name].sources) expect(targetOfTable(source.schema)).toBe(name);
    }
  });

  it("reports each kind of missing or wrong fact (the walk can fail)", () => {
    const good = REGISTRY.defender;
    const [first, ...rest] = good.sources;
    if (!first) throw new Error("defender has no source");
    const broken: TargetDefinition = {
      ...good,
      connector: " ",
      dataConnectors: [],
      sources: [
        {
          ...first,
          time: "ActionType",
          fields: {
            ...first.fields,
            "process.name": { column: "NoSuchColumn" },
            "process.pid": { column: "ProcessId", values: { a: ["b"] } },
            "file.extension": { expr: "strlen(FileName)", type: "string" },
          },
        },
        ...rest,
      ],
      functions: [{ name: "NoSuchFunction", description: "x", columns: [] }],
      hunt: { ...good.hunt, identity: ["DeviceId", "Nope"], sampleHash: [] },
    };
    expect(problems("defender", broken)).toEqual([
      "defender: no connector",
      "defender: function NoSuchFunction: no kql/functions/NoSuchFunction.kql",
      "defender: no data connector fills DeviceProcessEvents",
      "defender: no data connector fills DeviceFileEvents",
      "defender: no data connector fills DeviceNetworkEvents",
      "defender: deploys functions but names no data connector",
      "defender: source DeviceProcessEvents: time column ActionType is not a datetime column",
      "defender: source DeviceProcessEvents: @timestamp is not the time column ActionType",
      "defender: source DeviceProcessEvents, field process.name: no column NoSuchColumn in DeviceProcessEvents",
      "defender: source DeviceProcessEvents, field process.pid: values and argv need a string column (ProcessId is long)",
      "defender: source DeviceProcessEvents, field file.extension: expr is ShmhuntField:long but declared string",
      "defender: hunt.identity: no source has a column Nope",
      "defender: hunt.time: lacks ActionType",
      "defender: hunt.identity: holds no time column (hit keys would hash whole rows)",
    ]);
  });
});
