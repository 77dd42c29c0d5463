/**
 * The one content model (`buildDesiredContent`) rendered four ways agrees with itself: the requests the real Azure
 * SDK clients send for it (`shmhunt deploy --apply`, recorded at the HTTP layer), infra/content's Bicep (read back
 * with tree-sitter-bicep), the per-rule ARM templates of kql/ (their expressions evaluated as the ARM template
 * reference defines them) and the hunting-query YAML. Same resources, ids, API versions, properties and values,
 * for every rule in rules/ (and a variant whose text ARM would misread as expressions), and for a sample of
 * Elastic's Linux rules on each target they translate to, deployed as hunting query and analytics rule.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Translation, translateRule } from "../../src/kql/translate.js";
import { type LoadedRule, loadRuleFile, loadRules, type Target } from "../../src/rules/index.js";
import { ruleFilesUnder } from "../../src/rules/loader.js";
import { contentOfRule } from "../../src/sentinel/content-graph.js";
import type { WorkspaceRef } from "../../src/sentinel/content-types.js";
import { defaultFunctionsDir } from "../../src/sentinel/deploy.js";
import { buildDesiredContent } from "../../src/sentinel/desired.js";
import { contentIds } from "../../src/sentinel/ids.js";
import type { DesiredResource, Json } from "../../src/sentinel/plan.js";
import { armTemplate } from "../../src/sentinel/render-arm.js";
import { emitContentBicep } from "../../src/sentinel/render-bicep.js";
import { huntingQueryYaml } from "../../src/sentinel/render-yaml.js";
import {
  type ArmResource,
  compare,
  deployRequests,
  jsonDifferences,
  readArmTemplate,
  readContentBicep,
  type SentRequest,
} from "../support/content-readers.js";

const repo = path.resolve(import.meta.dirname, "../..");
const corpus = path.resolve(repo, "../shared/corpus/elastic-rules-linux");

const workspace: WorkspaceRef = {
  subscriptionId: "7f2e4c1a-9b3d-4e5f-8a6b-0c1d2e3f4a5b",
  resourceGroup: "rg-soc",
  workspaceName: "law-soc",
};

type Obj = { readonly [key: string]: Json };

interface Rendered {
  readonly desired: readonly DesiredResource[];
  readonly sent: readonly SentRequest[];
  readonly bicep: string;
  /** Per rule and target: the ARM template and the hunting-query YAML (when the rule deploys one). */
  readonly perRule: readonly {
    readonly rule: LoadedRule;
    readonly target: Target;
    readonly template: Obj;
    readonly yaml?: string;
  }[];
}

async function renderAll(rules: readonly LoadedRule[]): Promise<Rendered> {
  const cache = new Map<string, Translation>();
  const translate = (rule: LoadedRule, target: Target) => {
    const key = `${rule.id}/${rule.name}/${target}`;
    if (!cache.has(key)) cache.set(key, translateRule(rule, target, { validate: false }));
    return cache.get(key) as Translation;
  };
  const targetsOf = (rule: LoadedRule) => rule.settings.targets.filter((t) => translate(rule, t).kql !== undefined);
  const desired = buildDesiredContent(rules, {
    workspace,
    translate,
    functionsDir: defaultFunctionsDir(),
    targetsOf,
  });
  const sent = await deployRequests(desired, workspace);
  const bicep = emitContentBicep(desired, { workspace });
  const perRule = rules.flatMap((rule) =>
    targetsOf(rule).map((target) => {
      const slice = contentOfRule(desired, rule.id, target);
      const search = slice.find((d) => d.kind === "savedSearch");
      const metadata = slice.find((d) => d.kind === "metadata" && d.owner?.name === search?.name);
      return {
        rule,
        target,
        template: armTemplate(slice, { metadata: {}, workspace }),
        ...(search ? { yaml: huntingQueryYaml(search, metadata, ["a comment"]) } : {}),
      };
    }),
  );
  return { desired, sent, bicep, perRule };
}

const key = (type: string, id: string) => `${type.toLowerCase()} ${id.toLowerCase()}`;

/** ARM templates against the SDK requests: every resource of a template is sent alike; every request is in one. */
function armDifferences(r: Rendered): string[] {
  const out: string[] = [];
  const sentByKey = new Map(r.sent.map((s) => [key(s.type, s.id), s]));
  const seen = new Map<string, ArmResource>();
  for (const { rule, target, template } of r.perRule) {
    const resources = readArmTemplate(template, workspace);
    const ids = new Set(resources.map((a) => a.id.toLowerCase()));
    for (const a of resources) {
      const where = `${path.basename(rule.file)} ${target}: ${a.type} ${a.id.split("/").at(-1)}`;
      const s = sentByKey.get(key(a.type, a.id));
      if (!s) {
        out.push(`${where}: only in the ARM template`);
        continue;
      }
      if (s.apiVersion !== a.apiVersion) out.push(`${where}: api ${a.apiVersion}, deploy sends ${s.apiVersion}`);
      for (const p of jsonDifferences(a.body, s.body)) out.push(`${where}: ${p} differs`);
      for (const d of a.dependsOn)
        if (!ids.has(d.toLowerCase())) out.push(`${where}: depends on ${d}, not in the template`);
      const before = seen.get(key(a.type, a.id));
      if (before && jsonDifferences(before.body, a.body).length) out.push(`${where}: differs between templates`);
      seen.set(key(a.type, a.id), a);
    }
  }
  for (const s of r.sent) if (!seen.has(key(s.type, s.id))) out.push(`only in shmhunt deploy: ${s.type} ${s.id}`);
  return out;
}

/** The YAML documents against the saved searches (and analytics rules) the SDK sends. */
function yamlDifferences(r: Rendered): string[] {
  const out: string[] = [];
  const sent = (type: string, name: string) =>
    r.sent.find((s) => s.type.toLowerCase() === type.toLowerCase() && s.id.split("/").at(-1) === name);
  for (const { rule, target, yaml } of r.perRule) {
    if (!yaml) continue;
    const where = `${path.basename(rule.file)} ${target}`;
    const doc = parse(yaml) as { [key: string]: Json };
    const search = sent(
      "Microsoft.OperationalInsights/workspaces/savedSearches",
      contentIds.huntingQuery(rule.id, target),
    );
    if (!search) {
      out.push(`${where}: YAML of a hunting query deploy does not send`);
      continue;
    }
    const p = search.body.properties as Obj;
    const tags = Object.fromEntries((p.tags as readonly Obj[]).map((t) => [t.name, t.value]));
    const split = (v: Json | undefined) => (typeof v === "string" && v ? v.split(",") : []);
    const expected: Obj = {
      name: p.displayName as string,
      description: `${String(tags.description)}\n`,
      tactics: split(tags.tactics),
      relevantTechniques: split(tags.techniques),
      query: `${String(p.query)}\n`,
    };
    for (const [k, v] of Object.entries(expected)) {
      for (const d of jsonDifferences(doc[k], v)) out.push(`${where}: YAML ${k}${d ? ` ${d}` : ""} differs`);
    }
    // Entity mappings: the analytics rule's, when the rule deploys one; and every column is one the query computes.
    const alert = r.sent.find(
      (s) => s.type === "Microsoft.SecurityInsights/alertRules" && (s.body.properties as Obj).query === p.query,
    );
    if (alert) {
      for (const d of jsonDifferences(doc.entityMappings, (alert.body.properties as Obj).entityMappings))
        out.push(`${where}: YAML entityMappings ${d} differs from the analytics rule's`);
    }
    for (const m of (doc.entityMappings ?? []) as readonly { fieldMappings: readonly { columnName: string }[] }[]) {
      for (const f of m.fieldMappings) {
        if (!new RegExp(`[|,]\\s*(extend\\s+)?${f.columnName} = `).test(String(p.query)))
          out.push(`${where}: YAML maps ${f.columnName}, which the query does not compute`);
      }
    }
  }
  return out;
}

function expectAgreement(r: Rendered): void {
  expect(r.sent.length).toBe(r.desired.length);
  expect(r.sent.every((s) => s.method === "PUT")).toBe(true);
  expect(compare(readContentBicep(r.bicep, workspace), r.sent)).toEqual([]);
  expect(armDifferences(r)).toEqual([]);
  expect(yamlDifferences(r)).toEqual([]);
}

describe("the rules in rules/", () => {
  let rendered: Rendered;
  beforeAll(async () => {
    const { rules } = await loadRules(path.join(repo, "rules"));
    const execution = rules.find((r) => r.file.endsWith("shm-execution.toml")) as LoadedRule;
    // Text that ARM would read as an expression, and quotes: written as literals in every rendering.
    const tricky: LoadedRule = {
      ...execution,
      id: "0b6c6f5e-1d6e-4b8a-9c3f-2a1e5d7c9b10",
      name: "[concat('x')] it's",
      // An interpolation in Bicep (`$` then `{`), and a `'''` that would end a Bicep verbatim string.
      description: ["[parameters('workspace')] $", "{x} ''' [end]"].join(""),
    };
    rendered = await renderAll([...rules, tricky]);
  }, 120_000);

  it("render as SDK requests, Bicep, ARM and YAML that agree", () => {
    // rules/ holds three EQL rules (shm-creation, the seed shm-execution, its upstream revision), plus `tricky`:
    // four rules on three targets, each deploying a hunting query.
    expect(rendered.perRule.length).toBe(4 * 3);
    expect(rendered.perRule.filter((p) => p.yaml).length).toBe(12);
    expectAgreement(rendered);
  });

  it("the comparison sees one changed value in any rendering", () => {
    const changedArm: Rendered = {
      ...rendered,
      perRule: rendered.perRule.map((p, i) =>
        i === 0
          ? { ...p, template: JSON.parse(JSON.stringify(p.template).replace('"version":2', '"version":3')) as Obj }
          : p,
      ),
    };
    expect(armDifferences(changedArm)).toHaveLength(1);
    const changedYaml: Rendered = {
      ...rendered,
      perRule: rendered.perRule.map((p, i) => (i === 0 ? { ...p, yaml: p.yaml?.replace("Execution", "Impact") } : p)),
    };
    expect(yamlDifferences(changedYaml)).toEqual([expect.stringMatching(/YAML tactics \[0\] differs$/)]);
    const bicep = rendered.bicep.replace("suppressionEnabled: false", "suppressionEnabled: true");
    expect(bicep).not.toBe(rendered.bicep);
    expect(compare(readContentBicep(bicep, workspace), rendered.sent)).toEqual([
      expect.stringMatching(/properties\.suppressionEnabled differs$/),
    ]);
  });

  it("a one-minute suppression and grouping window are PT1M in every rendering (ISO 8601, as the spec says)", async () => {
    const { rules } = await loadRules(path.join(repo, "rules"));
    const execution = rules.find((r) => r.file.endsWith("shm-execution.toml")) as LoadedRule;
    const oneMinute: LoadedRule = {
      ...execution,
      settings: {
        ...execution.settings,
        analytics: { ...execution.settings.analytics, suppressionMs: 60_000, groupingWindowMs: 60_000 },
      },
    };
    const r = await renderAll([oneMinute]);
    expectAgreement(r);
    const alerts = r.sent.filter((s) => s.type === "Microsoft.SecurityInsights/alertRules");
    expect(alerts.length).toBe(3);
    for (const a of alerts) {
      const p = a.body.properties as { suppressionDuration: string; incidentConfiguration: Obj };
      expect(p.suppressionDuration).toBe("PT1M");
      expect((p.incidentConfiguration.groupingConfiguration as Obj).lookbackDuration).toBe("PT1M");
    }
  }, 120_000);
});

describe.skipIf(!existsSync(corpus))("a sample of Elastic's Linux rules", () => {
  it("render as SDK requests, Bicep, ARM and YAML that agree on every target they translate to", async () => {
    const files = (await ruleFilesUnder(path.join(corpus, "rules_linux"))).sort();
    const rules: LoadedRule[] = [];
    // Every 12th rule file: a fixed sample across the corpus, kept while it translates somewhere.
    for (const file of files.filter((_, i) => i % 12 === 0)) {
      const { rule } = await loadRuleFile(file);
      if (rule?.language !== "eql") continue;
      const both: LoadedRule = {
        ...rule,
        settings: { ...rule.settings, deploy: ["hunting_query", "analytics_rule"] },
      };
      if (both.settings.targets.some((t) => translateRule(both, t, { validate: false }).kql !== undefined))
        rules.push(both);
    }
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const r = await renderAll(rules);
    expect(r.sent.filter((s) => s.type === "Microsoft.SecurityInsights/alertRules").length).toBeGreaterThanOrEqual(20);
    expectAgreement(r);
  }, 240_000);
});
