/**
 * What the seed rules' queries match, run through the EQL evaluator (the reference semantics) on events
 * written for them. The exclusions are data beside the query: here they are checked as the translator and
 * hunt apply them (a hit is dropped when a field matches an item).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/eql/index.js";
import { type LoadedRule, loadRuleFile } from "../../src/rules/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
let creation: LoadedRule;
let execution: LoadedRule;
let upstream: LoadedRule;

beforeAll(async () => {
  const c = await loadRuleFile(path.join(repo, "rules/shm-creation.toml"));
  const e = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
  const u = await loadRuleFile(path.join(repo, "rules/shm-execution-upstream.toml"));
  if (!c.rule || !e.rule || !u.rule) throw new Error("seed rules did not load");
  creation = c.rule;
  execution = e.rule;
  upstream = u.rule;
});

const matches = (rule: LoadedRule, event: Record<string, unknown>): boolean => {
  const ast = rule.query?.ast;
  if (!ast) throw new Error(`${rule.name} has no parsed query`);
  return evaluate(ast, [{ "@timestamp": "2026-11-23T10:00:00Z", ...event }]).length === 1;
};

/** A glob of EQL's `:` (case-insensitive, * and ?) as the exclusion items use it. */
const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  ).test(value);
const excluded = (rule: LoadedRule, event: Record<string, unknown>): boolean =>
  (rule.settings.exclusions?.items ?? []).some((item) => {
    const value = item.field
      .split(".")
      .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], event);
    if (typeof value !== "string") return false;
    return item.values.some((v) => (item.operator === "==" ? v === value : glob(v, value)));
  });

const file = (filePath: string, type = "creation", process = "curl") => ({
  host: { os: { type: "linux" } },
  event: { category: "file", type },
  file: { path: filePath },
  process: { name: process },
});
const shmget = (a0: string, a1: string, a2: string, process = "derusbi") => ({
  host: { os: { type: "linux" } },
  auditd: { data: { syscall: "shmget", a0, a1, a2 } },
  process: { name: process },
});

describe("shm-creation", () => {
  it("matches files created or written under /dev/shm and /run/shm", () => {
    expect(matches(creation, file("/dev/shm/.x"))).toBe(true);
    expect(matches(creation, file("/run/shm/kworker", "change"))).toBe(true);
    expect(matches(creation, file("/tmp/x"))).toBe(false);
    expect(matches(creation, file("/dev/shm/x", "deletion"))).toBe(false);
    expect(matches(creation, file("/DEV/SHM/x"))).toBe(false);
  });

  it("matches auditd shmget with the Derusbi key, or its size and flags", () => {
    expect(matches(creation, shmget("82015f0d", "40", "3b6"))).toBe(true);
    expect(matches(creation, shmget("82015F0D", "1000", "780"))).toBe(true);
    expect(matches(creation, shmget("1234", "40", "3b6"))).toBe(true);
    expect(matches(creation, shmget("1234", "40", "780"))).toBe(false);
    expect(
      matches(creation, {
        ...shmget("82015f0d", "40", "3b6"),
        auditd: { data: { syscall: "msgget", a0: "82015f0d" } },
      }),
    ).toBe(false);
  });

  it("leaves the five benign scenarios to the exclusion list", () => {
    for (const name of ["apt", "dnf", "cron", "systemd", "postgres", "ipcs", "qemu-system-x86_64", "lxc-start"]) {
      const event = shmget("1234", "40", "3b6", name);
      expect(matches(creation, event), name).toBe(true);
      expect(excluded(creation, event), name).toBe(true);
    }
    expect(excluded(creation, shmget("82015f0d", "40", "3b6", "derusbi"))).toBe(false);
    expect(excluded(creation, file("/dev/shm/x", "creation", "APT"))).toBe(false);
  });
});

describe("shm-execution (the seed's version 103)", () => {
  const exec = (executable: string, user = "root", action = "exec", parent = "/bin/bash") => ({
    event: { category: "process", type: "start", action },
    user: { name: user },
    process: { executable, parent: { command_line: parent } },
  });

  // The seed (DESIGN.md): "`:` is case-insensitive (`/DEV/SHM/x` matches); `user.name == "root"` is case-sensitive".
  it("matches root executions from the four directories, `:` case-insensitively, root case-sensitively", () => {
    expect(matches(execution, exec("/dev/shm/kdmtmpflush"))).toBe(true);
    expect(matches(execution, exec("/var/run/.x"))).toBe(true);
    expect(matches(execution, exec("/run/shm/x", "root", "EXEC_EVENT"))).toBe(true);
    expect(matches(execution, exec("/var/lock/x", "root", "exec_event"))).toBe(true);
    expect(matches(execution, exec("/DEV/SHM/x"))).toBe(true);
    expect(matches(execution, exec("/dev/shm/x", "ROOT"))).toBe(false);
    expect(matches(execution, exec("/dev/shm/kdmtmpflush", "alice"))).toBe(false);
    expect(matches(execution, exec("/dev/shm/x", "root", "fork"))).toBe(false);
    expect(matches(execution, exec("/usr/bin/true"))).toBe(false);
  });

  it("excludes only /var/run/docker/* (any case), not runc init parents", () => {
    expect(matches(execution, exec("/var/run/docker/runtime"))).toBe(false);
    expect(matches(execution, exec("/VAR/RUN/DOCKER/x"))).toBe(false);
    expect(matches(execution, exec("/var/run/utsns/x"))).toBe(true);
    expect(matches(execution, exec("/dev/shm/x", "root", "exec", "/usr/bin/runc init"))).toBe(true);
  });
});

describe("shm-execution-upstream (the later Elastic revision)", () => {
  const exec = (executable: string, user = "0", parent = "/bin/bash") => ({
    host: { os: { type: "linux" } },
    event: { category: "process", type: "start", action: "exec" },
    user: { id: user },
    process: { executable, parent: { command_line: parent } },
  });

  it("matches root executions from shared-memory directories, not the published exceptions", () => {
    expect(matches(upstream, exec("/dev/shm/kdmtmpflush"))).toBe(true);
    expect(matches(upstream, exec("/var/run/.x"))).toBe(true);
    expect(matches(upstream, exec("/dev/shm/kdmtmpflush", "1000"))).toBe(false);
    expect(matches(upstream, exec("/var/run/docker/runtime"))).toBe(false);
    expect(matches(upstream, exec("/dev/shm/x", "0", "/usr/bin/runc init"))).toBe(false);
    expect(matches(upstream, exec("/usr/bin/true"))).toBe(false);
  });
});
