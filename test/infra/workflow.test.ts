/**
 * The GitHub Actions workflow (.github/workflows/deploy.yml), read with the `yaml` package: job graph, least
 * permissions, OIDC login only, Azure changed only from main, `--apply` only on main after a plan, the package
 * and the Bicep outputs it relies on. The shell that splits the workspace resource id is run for real.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { infraDir, loadBicep, repoRoot } from "./bicep.js";

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly shell?: string;
  readonly if?: string;
  readonly id?: string;
  readonly with?: Record<string, unknown>;
}

interface Job {
  readonly needs?: string | string[];
  readonly if?: string;
  readonly permissions?: Record<string, string>;
  readonly environment?: string;
  readonly outputs?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly steps: Step[];
}

interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const workflowPath = path.join(repoRoot, ".github/workflows/deploy.yml");
const workflow = parse(readFileSync(workflowPath, "utf8")) as Workflow;
const jobs = workflow.jobs;
const needsOf = (job: Job | undefined): string[] => (job?.needs === undefined ? [] : [job.needs].flat());
const runs = (job: Job | undefined): string => (job?.steps ?? []).map((s) => s.run ?? "").join("\n");
const usesAzureLogin = (job: Job) => job.steps.some((s) => s.uses?.startsWith("azure/login@"));
const MAIN_ONLY = /github\.event_name != 'pull_request' && github\.ref == 'refs\/heads\/main'/;

function job(name: string): Job {
  const found = jobs[name];
  if (!found) throw new Error(`job ${name} is missing`);
  return found;
}

describe(".github/workflows/deploy.yml", () => {
  it("builds and tests on Node 22, the runtime infra/ deploys (Node 20 reached end of life in April 2026)", () => {
    const env = (parse(readFileSync(workflowPath, "utf8")) as { env?: Record<string, string> }).env ?? {};
    expect(env.NODE_VERSION).toBe("22");
    const setups = Object.values(jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("actions/setup-node@")));
    expect(setups.length).toBeGreaterThan(0);
    for (const s of setups) expect(s.with?.["node-version"]).toBe(`\${{ env.NODE_VERSION }}`);
  });

  it("runs on pushes to main and on pull requests to main", () => {
    expect(workflow.on).toHaveProperty("push");
    expect(workflow.on).toHaveProperty("pull_request");
    expect((workflow.on.push as { branches: string[] }).branches).toEqual(["main"]);
  });

  it("has the jobs test → build → publish, test → infra → publish → content plan → content apply", () => {
    expect(Object.keys(jobs).sort()).toEqual(["build", "content-apply", "content-plan", "infra", "publish", "test"]);
    expect(needsOf(jobs.test)).toEqual([]);
    expect(needsOf(jobs.build)).toEqual(["test"]);
    expect(needsOf(jobs.infra)).toEqual(["test"]);
    expect(needsOf(jobs.publish).sort()).toEqual(["build", "infra"]);
    expect(needsOf(jobs["content-plan"])).toContain("test");
    expect(needsOf(jobs["content-apply"])).toContain("content-plan");
    expect(needsOf(jobs["content-apply"])).toContain("publish");
    // every `needs` names a job
    for (const [name, j] of Object.entries(jobs)) {
      for (const need of needsOf(j)) expect(Object.keys(jobs), `${name} needs ${need}`).toContain(need);
    }
  });

  it("grants only contents: read at the top, and id-token: write only to jobs that log in to Azure", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    for (const [name, j] of Object.entries(jobs)) {
      if (usesAzureLogin(j)) expect(j.permissions, name).toEqual({ contents: "read", "id-token": "write" });
      else expect(j.permissions?.["id-token"], name).toBeUndefined();
      for (const level of Object.values(j.permissions ?? {})) {
        if (level === "write") continue;
        expect(level, name).toBe("read");
      }
    }
  });

  it("logs in with OIDC (client, tenant and subscription ids), never with a stored secret", () => {
    const logins = Object.values(jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("azure/login@")));
    expect(logins.length).toBeGreaterThanOrEqual(4);
    for (const login of logins) {
      expect(Object.keys(login.with ?? {}).sort()).toEqual(["client-id", "subscription-id", "tenant-id"]);
    }
    expect(readFileSync(workflowPath, "utf8")).not.toMatch(/secrets\.|creds:|client-secret/);
  });

  // `npm install`, not `npm ci`: the lock cannot list YARA-X's macOS packages (README, "Install"), so `npm ci`
  // refuses it; the install must leave the lock as committed.
  const INSTALL = "npm install --no-audit --no-fund && git diff --exit-code package-lock.json";

  it("tests with npm install (the lock unchanged) and npm test", () => {
    const script = runs(job("test"));
    expect(script).not.toMatch(/npm ci/);
    expect(script).toContain(INSTALL);
    expect(script).toMatch(/^npm test$/m);
  });

  it("builds the package, drops dev dependencies after the build, zips and uploads it for publish", () => {
    const build = job("build");
    const script = runs(build);
    const order = [INSTALL, "npm run build", "npm prune --omit=dev", "zip "].map((s) => script.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const needed of ["dist", "host.json", "package.json", "node_modules", "rules", "kql", "schemas"]) {
      expect(script).toMatch(new RegExp(`zip .*\\b${needed.replace(".", "\\.")}\\b`));
    }
    const upload = build.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    const download = job("publish").steps.find((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(upload?.with?.name).toBe("functionapp");
    expect(download?.with?.name).toBe(upload?.with?.name);
    expect(runs(job("publish"))).toContain("--src functionapp.zip");
  });

  it("changes Azure only from main: deployment create, publish and --apply", () => {
    for (const [name, j] of Object.entries(jobs)) {
      for (const step of j.steps) {
        const run = step.run ?? "";
        const changes =
          /az deployment group create|config-zip|shmhunt deploy --apply|az functionapp (create|delete)/.test(run);
        if (!changes) continue;
        const guard = `${j.if ?? ""} ${step.if ?? ""}`;
        expect(guard, `${name} / ${step.name ?? run.slice(0, 40)}`).toMatch(MAIN_ONLY);
      }
    }
  });

  it("plans the content before applying it, and applies only in content-apply on main", () => {
    const plan = job("content-plan");
    const apply = job("content-apply");
    expect(runs(plan)).toMatch(/npx shmhunt deploy --plan\b/);
    expect(runs(plan)).not.toMatch(/--apply/);
    expect(runs(apply)).toMatch(/npx shmhunt deploy --apply\b/);
    expect(apply.if).toMatch(MAIN_ONLY);
    expect(apply.environment).toBe("production");
    const others = Object.entries(jobs).filter(([name]) => name !== "content-apply");
    for (const [name, j] of others) expect(runs(j), name).not.toMatch(/--apply/);
  });

  it("fails a step whose command fails inside a pipeline (`deploy --plan | tee`): the step runs with pipefail", () => {
    // GitHub Actions runs a step without `shell` as `bash -e {0}` (no pipefail: the step's status is the last
    // command's, tee's), and with `shell: bash` as `bash --noprofile --norc -eo pipefail {0}` ("Workflow syntax",
    // jobs.<job_id>.steps[*].shell). `shmhunt deploy --plan` exits 1 on an invalid rule or a 403.
    const piped = Object.entries(jobs).flatMap(([name, j]) =>
      j.steps.filter((s) => /[^|]\|[^|]/.test(s.run ?? "")).map((s) => ({ name, step: s })),
    );
    expect(piped.map(({ name }) => name)).toContain("content-plan");
    for (const { name, step } of piped) {
      const pipefail = step.shell === "bash" || /set -[a-z]*o pipefail/.test(step.run ?? "");
      expect(pipefail, `${name}: ${step.run}`).toBe(true);
    }
  });

  it("deploys the Bicep files that exist, with the parameters they declare", () => {
    const text = readFileSync(workflowPath, "utf8");
    const templates = [...text.matchAll(/--template-file (\S+)/g)].map((m) => m[1] ?? "");
    expect(templates.length).toBeGreaterThanOrEqual(3);
    for (const template of templates) expect(existsSync(path.join(repoRoot, template)), template).toBe(true);
    expect(existsSync(path.join(infraDir, "main.parameters.json"))).toBe(true);

    const main = loadBicep(path.join(infraDir, "main.bicep"));
    const events = loadBicep(path.join(infraDir, "blob-events.bicep"));
    for (const [file, bicep] of [
      ["infra/main.bicep", main],
      ["infra/blob-events.bicep", events],
    ] as const) {
      const invocations = [
        ...text.matchAll(new RegExp(`--template-file ${file}[\\s\\S]*?(?=\\n\\s*(?:--query|--output|$))`, "g")),
      ];
      for (const invocation of invocations) {
        const passed = [...(invocation[0] ?? "").matchAll(/\s(\w+)="\$/g)].map((m) => m[1] ?? "");
        expect(passed.length, file).toBeGreaterThan(0);
        for (const name of passed) expect([...bicep.params.keys()], `${file}: ${name}`).toContain(name);
      }
    }
  });

  it("reads only outputs main.bicep declares, and hands them on through job outputs", () => {
    const main = loadBicep(path.join(infraDir, "main.bicep"));
    const infra = job("infra");
    const read = [...runs(infra).matchAll(/jq -r '\.(\w+)\.value'/g)].map((m) => m[1] ?? "");
    expect(read.sort()).toEqual(["eventGridTopicName", "functionAppName"]);
    for (const output of read) {
      expect(main.outputs.has(output), output).toBe(true);
      expect(infra.outputs?.[output]).toBe(`\${{ steps.deploy.outputs.${output} }}`);
    }
    const publishEnv = job("publish").env ?? {};
    const expression = (output: string) => `\${{ needs.infra.outputs.${output} }}`;
    expect(Object.values(publishEnv)).toEqual(
      expect.arrayContaining([expression("functionAppName"), expression("eventGridTopicName")]),
    );
  });

  it("keeps untrusted or secret values out of run scripts (passed through env instead)", () => {
    for (const [name, j] of Object.entries(jobs)) {
      for (const step of j.steps) expect(step.run ?? "", name).not.toMatch(/\$\{\{/);
    }
  });

  it("fetches the Event Grid trigger's eventgrid_extension system key and masks it before using it", () => {
    const script = runs(job("publish"));
    expect(script).toContain("--query systemKeys.eventgrid_extension");
    expect(script).not.toContain("blobs_extension");
    expect(script.indexOf("::add-mask::$key")).toBeGreaterThan(-1);
    expect(script.indexOf("::add-mask::$key")).toBeLessThan(script.indexOf('eventGridExtensionKey="$key"'));
  });

  describe("the step that points shmhunt at the workspace", () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "shmhunt-workflow-"));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    for (const jobName of ["content-plan", "content-apply"]) {
      it(`${jobName}: splits the resource id into the settings src/app/config.ts reads`, () => {
        const step = job(jobName).steps.find((s) => s.name === "Point shmhunt at the workspace");
        expect(step?.run).toBeDefined();
        const envFile = path.join(tmp, `${jobName}.env`);
        execFileSync("bash", ["-euo", "pipefail", "-c", step?.run ?? "exit 1"], {
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            GITHUB_ENV: envFile,
            WORKSPACE_RESOURCE_ID:
              "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-soc/providers/Microsoft.OperationalInsights/workspaces/law-sentinel",
          },
        });
        expect(readFileSync(envFile, "utf8").trim().split("\n")).toEqual([
          "SHMHUNT_SUBSCRIPTION_ID=11111111-2222-3333-4444-555555555555",
          "SHMHUNT_RESOURCE_GROUP=rg-soc",
          "SHMHUNT_WORKSPACE_NAME=law-sentinel",
        ]);
        const config = readFileSync(path.join(repoRoot, "src/app/config.ts"), "utf8");
        for (const setting of ["SHMHUNT_SUBSCRIPTION_ID", "SHMHUNT_RESOURCE_GROUP", "SHMHUNT_WORKSPACE_NAME"]) {
          expect(config).toContain(`"${setting}"`);
        }
      });
    }
  });
});
