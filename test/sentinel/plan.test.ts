import { describe, expect, it } from "vitest";
import { type ActualResource, type DesiredResource, diffOwned, planDeployment } from "../../src/sentinel/plan.js";

const search = (name: string, query: string): DesiredResource => ({
  kind: "savedSearch",
  name,
  properties: { category: "Hunting Queries", query, tags: [{ name: "managedBy", value: "shmhunt" }] },
});
const actualOf = (d: DesiredResource, extra: Record<string, unknown> = {}, managed = true): ActualResource => ({
  kind: d.kind,
  name: d.name,
  managed,
  properties: { ...d.properties, ...extra } as ActualResource["properties"],
});

describe("planDeployment", () => {
  it("creates what is missing, and a second plan over the result is all unchanged", () => {
    const desired = [
      search("shmhunt-a", "T | take 1"),
      { kind: "workspaceFunction", name: "ShmhuntAuditd", properties: { query: "Syslog" } } as const,
    ];
    const first = planDeployment(desired, [], { prune: false });
    expect(first.counts).toEqual({ create: 2, update: 0, unchanged: 0, delete: 0 });
    // functions come before the saved searches that call them
    expect(first.steps.map((s) => s.kind)).toEqual(["workspaceFunction", "savedSearch"]);
    const second = planDeployment(
      desired,
      desired.map((d) => actualOf(d, { etag: "W/x", version: 2 })),
      { prune: true },
    );
    expect(second.counts).toEqual({ create: 0, update: 0, unchanged: 2, delete: 0 });
  });

  it("reports the changed property paths of an update, ignoring read-only service properties", () => {
    const d = search("shmhunt-a", "T | take 2");
    const a = actualOf(search("shmhunt-a", "T | take 1"), { lastModified: "now" });
    const plan = planDeployment([d], [a], { prune: false });
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({ action: "update", changes: ["query"] });
  });

  it("treats CRLF from the service as the same query text", () => {
    expect(diffOwned({ query: "a\nb" }, { query: "a\r\nb" })).toEqual([]);
    expect(diffOwned({ tags: [1, 2] }, { tags: [1] })).toEqual(["tags"]);
    expect(diffOwned({ a: { b: 1 } }, { a: { b: 2, c: 3 } })).toEqual(["a.b"]);
  });

  it("prunes only managed resources, and only when asked", () => {
    const kept = search("shmhunt-a", "q");
    const stale = actualOf(search("shmhunt-old", "q"));
    const foreign = actualOf(search("analyst-query", "q"), {}, false);
    const actual = [actualOf(kept), stale, foreign];
    expect(planDeployment([kept], actual, { prune: false }).counts.delete).toBe(0);
    const pruned = planDeployment([kept], actual, { prune: true });
    expect(pruned.steps.filter((s) => s.action === "delete").map((s) => s.name)).toEqual(["shmhunt-old"]);
  });

  it("matches names case-insensitively, as ARM does, and refuses duplicate desired names", () => {
    const d = search("Shmhunt-A", "q");
    expect(planDeployment([d], [actualOf(search("shmhunt-a", "q"))], { prune: true }).counts.unchanged).toBe(1);
    expect(() => planDeployment([d, search("shmhunt-a", "q")], [], { prune: false })).toThrow(
      /two desired savedSearch/,
    );
  });

  it("deletes dependents before what they depend on", () => {
    const actual: ActualResource[] = [
      { kind: "watchlist", name: "shmhunt-exclusions", managed: true, properties: {} },
      { kind: "savedSearch", name: "shmhunt-x", managed: true, properties: {} },
      { kind: "workspaceFunction", name: "ShmhuntAuditd", managed: true, properties: {} },
    ];
    const plan = planDeployment([], actual, { prune: true });
    expect(plan.steps.map((s) => s.kind)).toEqual(["savedSearch", "watchlist", "workspaceFunction"]);
  });
});
