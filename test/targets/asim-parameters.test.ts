/**
 * The filtering parameters the ASIM target declares for the unifying parsers it calls must be exactly those
 * Microsoft's parser files declare (`ParserParams`: names, types, defaults, in order). The oracle is Microsoft's
 * YAML under ../shared/reference/asim-parsers, read at test time.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REGISTRY, sourceFunctions } from "../../src/targets/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const parsers = path.resolve(here, "../../../shared/reference/asim-parsers/Parsers");
const PARSER_FILES: Readonly<Record<string, string>> = {
  _Im_ProcessEvent: "ASimProcessEvent/Parsers/imProcessEvent.yaml",
  _Im_FileEvent: "ASimFileEvent/Parsers/imFileEvent.yaml",
};

interface Param {
  name: string;
  type: string;
  default: string;
}

/** Microsoft's `ParserParams` list. */
function microsoftParams(file: string): Param[] {
  const doc = parse(readFileSync(path.join(parsers, file), "utf8")) as {
    ParserParams?: { Name: string; Type: string; Default: unknown }[];
  };
  if (!doc.ParserParams) throw new Error(`${file}: no ParserParams`);
  return doc.ParserParams.map((p) => ({ name: p.Name, type: p.Type, default: String(p.Default) }));
}

/** `(a:t=d, b:t=d)` as declared by the registry, split at top-level commas. */
function declaredParams(parameters: string): Param[] {
  const inner = parameters.trim().replace(/^\(/, "").replace(/\)$/, "");
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  return parts.map((p) => {
    const m = /^\s*(\w+)\s*:\s*(\w+)\s*=\s*(.+?)\s*$/.exec(p);
    if (!m) throw new Error(`cannot read parameter ${p}`);
    // a KQL string literal `'*'` is the YAML scalar `'*'`, which YAML reads as `*`
    const literal = m[3] ?? "";
    return { name: m[1] ?? "", type: m[2] ?? "", default: literal.replace(/^'(.*)'$/, "$1") };
  });
}

const asimSources = REGISTRY.asim.sources.filter((s) => s.parameters !== undefined);

describe("ASIM parser parameters (oracle: Microsoft's parser YAML)", () => {
  it("every ASIM source with parameters has a Microsoft parser file to check against", () => {
    expect(asimSources.map((s) => s.schema).sort()).toEqual(Object.keys(PARSER_FILES).sort());
  });

  it.each(Object.entries(PARSER_FILES))("%s declares the parameters of %s", (schema, file) => {
    const source = asimSources.find((s) => s.schema === schema);
    expect(declaredParams(source?.parameters ?? "()")).toEqual(microsoftParams(file));
  });

  it("sourceFunctions() passes the same declarations on, one per parser", () => {
    for (const schema of Object.keys(PARSER_FILES)) {
      const fn = sourceFunctions().filter((f) => f.name === schema);
      expect(fn).toHaveLength(1);
      expect(declaredParams(fn[0]?.parameters ?? "()")).toEqual(microsoftParams(PARSER_FILES[schema] ?? ""));
    }
  });

  it("the pre-move list (Defender source parser's targetusername_has, dvchostname_has_any, pack) is rejected", () => {
    // the parameters shmhunt once declared for _Im_ProcessEvent in src/kusto/schemas.ts
    const old =
      "(starttime:datetime=datetime(null), endtime:datetime=datetime(null), commandline_has_any:dynamic=dynamic([]), commandline_has_all:dynamic=dynamic([]), commandline_has_any_ip_prefix:dynamic=dynamic([]), actingprocess_has_any:dynamic=dynamic([]), targetprocess_has_any:dynamic=dynamic([]), parentprocess_has_any:dynamic=dynamic([]), targetusername_has:string='*', dvcipaddr_has_any_prefix:dynamic=dynamic([]), dvchostname_has_any:dynamic=dynamic([]), eventtype:string='*', hashes_has_any:dynamic=dynamic([]), pack:bool=false)";
    expect(declaredParams(old)).not.toEqual(microsoftParams(PARSER_FILES._Im_ProcessEvent ?? ""));
  });
});
