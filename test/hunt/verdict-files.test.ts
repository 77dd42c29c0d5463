/**
 * A stored verdict's matches name the .yar file each rule came from (docs/service.md, State layout:
 * `matches[{rule, file, tags}]`); storedVerdictOf put YARA-X's namespace there (`default` for every rule). Verdicts
 * stored before keep loading, and are read as knowing no file.
 */
import { describe, expect, it } from "vitest";
import { storedVerdictOf } from "../../src/hunt/from-rule.js";
import { confirms } from "../../src/hunt/gate.js";
import { sameMeaning } from "../../src/hunt/rescan.js";
import type { StoredVerdict } from "../../src/hunt/types.js";
import type { Verdict } from "../../src/yara/verdict.js";

const match = (file?: string) => ({
  rule: "derusbi",
  namespace: "default",
  ...(file ? { file } : {}),
  tags: [],
  meta: {},
  strings: [],
});
const scanned = (file?: string): Verdict => ({
  verdict: "match",
  sha256: "ab".repeat(32),
  size: 10,
  matches: [match(file)],
  ruleset: "r1",
  durationMs: 1,
});
const at = new Date("2026-03-01T10:00:00Z");

describe("the rule file of a stored verdict's match", () => {
  it("is the .yar file the scanner names, never YARA's namespace", () => {
    expect(storedVerdictOf(scanned("shm-creation.yar"), at)?.matches).toEqual([
      { rule: "derusbi", file: "shm-creation.yar", tags: [] },
    ]);
    expect(storedVerdictOf(scanned(), at)?.matches).toEqual([{ rule: "derusbi", tags: [] }]);
  });

  it("of a verdict stored before (its file the namespace) changes no meaning and confirms no gate by file", () => {
    const old: StoredVerdict = {
      ...(storedVerdictOf(scanned(), at) as StoredVerdict),
      matches: [{ rule: "derusbi", file: "default", tags: [] }],
    };
    const now = storedVerdictOf(scanned("shm-creation.yar"), at) as StoredVerdict;
    // A rescan finding the same rule matching is no change, though only the new verdict knows the file.
    expect(sameMeaning(old, now)).toBe(true);
    expect(sameMeaning(now, { ...now, matches: [{ rule: "derusbi", file: "other.yar", tags: [] }] })).toBe(false);
    const gate = (yaraRules: string[]) => ({ mode: "require" as const, yaraRules, pendingTimeoutMs: 1 });
    expect(confirms(gate(["shm-creation.yar"]), now)).toBe(true);
    expect(confirms(gate(["default.yar"]), old)).toBe(false);
  });
});
