/**
 * A seeded property test of the exact prefilter (src/yara/prefilter.ts): random rule sets inside the grammar it
 * claims to understand (text strings with escapes and the modifiers ascii/fullword/private; hex strings with `??`,
 * nibbles, `~`, jumps and alternatives; conditions of `and`, parentheses, `any/all/<n> of them`, `$name`, `true`
 * and `uint8|16|32[be](k) == v`; global and private rules), and random samples that plant, almost plant or lack
 * the strings and the integers. The oracle is YARA-X itself (the binding, scanning the same bytes directly): no
 * sample it matches may be ruled out, neither in memory (`mayMatch`) nor when the file is read in a 4 KiB head and
 * 1 MiB chunks (`SampleScanner.ruleOut`, as the CLI's thread and the workers do), the strings sitting across each
 * seam of that reading.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type BindingRules, loadYaraBinding } from "../../src/yara/binding.js";
import { derivePrefilter, mayMatch, type Prefilter } from "../../src/yara/prefilter.js";
import { SampleScanner } from "../../src/yara/sample.js";
import { tempDirs } from "../support/temp-dirs.js";

const KIB = 1024;
const MIB = 1024 * 1024;

/** A small deterministic generator (the same rules and samples every run). */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(items: readonly T[]): T => items[next() % items.length] as T,
    chance: (p: number) => next() / 2 ** 32 < p,
  };
}
type Random = ReturnType<typeof generator>;

/** Bytes a sample is made of (letters for fullword, NUL, 0xFF, a newline). */
const ALPHABET = [0x41, 0x42, 0x61, 0x62, 0x20, 0x00, 0xff, 0x0a];
/** What fills the large files: a byte no generated pattern has among its fixed bytes (so matches stay few). */
const FILL = 0x2e;

interface Pattern {
  readonly id: string;
  readonly source: string;
  /** Bytes one match of the pattern could be (a fresh choice for `??`, jumps and alternatives each call). */
  readonly instance: () => Buffer;
}
interface Check {
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly bigEndian: boolean;
  readonly value: number;
}
interface Rule {
  readonly source: string;
  readonly patterns: readonly Pattern[];
  readonly checks: readonly Check[];
}

function textPattern(r: Random, id: string): Pattern {
  // [source text, the bytes it stands for]
  const pieces: readonly (readonly [string, string])[] = [
    ["A", "41"],
    ["b", "62"],
    [" ", "20"],
    ['\\"', "22"],
    ["\\\\", "5c"],
    ["\\t", "09"],
    ["\\n", "0a"],
    ["\\r", "0d"],
    ["\\x00", "00"],
    ["\\xFf", "ff"],
    ["\\x41", "41"],
    ["\t", "09"],
    ["é", "c3a9"],
    ["😀", "f09f9880"],
    ["/*", "2f2a"],
    ["//", "2f2f"],
    ["}", "7d"],
    ["$", "24"],
  ];
  const chosen = Array.from({ length: 1 + r.int(5) }, () => r.pick(pieces));
  const bytes = Buffer.from(chosen.map(([, hex]) => hex).join(""), "hex");
  const modifiers = ["ascii", "fullword", "private"].filter(() => r.chance(0.25));
  return {
    id,
    source: `${id} = "${chosen.map(([text]) => text).join("")}" ${modifiers.join(" ")}`,
    instance: () => Buffer.from(bytes),
  };
}

function hexPattern(r: Random, id: string): Pattern {
  interface Token {
    readonly text: string;
    readonly bytes: () => number[];
  }
  const fixed = (): Token => {
    const b = r.pick([0x41, 0x42, 0x00, 0xff, 0x61]);
    return { text: b.toString(16).padStart(2, "0").toUpperCase(), bytes: () => [b] };
  };
  const token = (first: boolean, last: boolean): Token => {
    const kind = r.int(10);
    if (kind < 4) return fixed();
    if (kind === 4) return { text: "??", bytes: () => [r.pick(ALPHABET)] };
    if (kind === 5) return { text: "4?", bytes: () => [0x40 | r.int(16)] };
    if (kind === 6) return { text: "~41", bytes: () => [r.pick([0x42, 0x00, 0x61])] };
    if (kind === 7 && !first && !last) {
      const low = r.int(3);
      const high = Math.max(1, low + r.int(3));
      return {
        text: `[${low}-${high}]`,
        bytes: () => Array.from({ length: low + r.int(high - low + 1) }, () => r.pick(ALPHABET)),
      };
    }
    if (kind === 8) {
      const branches = Array.from({ length: 2 + r.int(2) }, () =>
        Array.from({ length: 1 + r.int(2) }, () => (r.chance(0.8) ? fixed() : { text: "??", bytes: () => [0x20] })),
      );
      return {
        text: `( ${branches.map((b) => b.map((t) => t.text).join(" ")).join(" | ")} )`,
        bytes: () => r.pick(branches).flatMap((t) => t.bytes()),
      };
    }
    return fixed();
  };
  const count = 1 + r.int(6);
  const tokens = Array.from({ length: count }, (_, i) => token(i === 0, i === count - 1));
  return {
    id,
    source: `${id} = { ${tokens.map((t) => t.text).join(r.chance(0.2) ? "" : " ")} }${r.chance(0.2) ? " private" : ""}`,
    instance: () => Buffer.from(tokens.flatMap((t) => t.bytes())),
  };
}

function randomRule(r: Random, name: string): Rule {
  const patterns = Array.from({ length: r.int(4) }, (_, i) => {
    const id = r.chance(0.1) ? "$" : `$s${i}`;
    return r.chance(0.5) ? textPattern(r, id) : hexPattern(r, id);
  });
  const named = patterns.filter((p) => p.id !== "$");
  const ofThem = () => r.pick(["any of them", "all of them", `${1 + r.int(patterns.length + 1)} of them`]);
  const terms: string[] = [];
  const checks: Check[] = [];
  for (let i = 0, n = 1 + r.int(3); i < n; i++) {
    const kind = r.int(10);
    if (kind < 3 && named.length > 0) terms.push(r.pick(named).id);
    else if (kind < 5 && patterns.length > 0) terms.push(ofThem());
    else if (kind < 6) terms.push("true");
    else {
      const width = r.pick([1, 2, 4] as const);
      const check: Check = {
        offset: r.pick([0, 1, 2, 3, 5, 0x10, 4090, 4092, 4093, 4095, 4096]),
        width,
        bigEndian: r.chance(0.4),
        value:
          width === 1
            ? r.pick([0x41, 0x00, 0xff])
            : width === 2
              ? r.pick([0x4142, 0x4241, 0xffff])
              : r.pick([0x41424344, 0x44434241, 0xffffffff]),
      };
      checks.push(check);
      const offset = r.chance(0.3) ? `0x${check.offset.toString(16)}` : String(check.offset);
      const value = r.chance(0.5) ? `0x${check.value.toString(16).toUpperCase()}` : String(check.value);
      terms.push(`uint${width * 8}${check.bigEndian ? "be" : ""}(${offset}) == ${value}`);
    }
  }
  // YARA-X refuses a pattern the condition does not use.
  const unused = patterns.filter((p) => p.id === "$" || !terms.includes(p.id));
  if (unused.length > 0 && !terms.some((t) => t.endsWith("of them"))) {
    if (unused.some((p) => p.id === "$") || r.chance(0.5)) terms.push(ofThem());
    else terms.push(...unused.map((p) => p.id));
  }
  let condition = terms[0] as string;
  for (const term of terms.slice(1)) {
    condition = r.chance(0.3) ? `(${condition}) and ${term}` : `${condition} and ${r.chance(0.3) ? `(${term})` : term}`;
  }
  if (r.chance(0.1)) condition = `${condition} /* or true */ and true`;
  const kind = r.chance(0.15) ? "global " : r.chance(0.15) ? "private " : "";
  const meta = r.chance(0.2) ? ' meta: m = "x}" n = -1 b = true' : "";
  const strings = patterns.length > 0 ? ` strings: ${patterns.map((p) => p.source).join(" ")}` : "";
  return {
    source: `${kind}rule ${name}${r.chance(0.2) ? " : t1 t2" : ""} {${meta}${strings} condition: ${condition} }`,
    patterns,
    checks,
  };
}

/** A rule set YARA-X compiles and the prefilter understands, with the rules it came from. */
interface Understood {
  readonly source: string;
  readonly rules: readonly Rule[];
  readonly yara: BindingRules;
  readonly prefilter: Prefilter;
}

function understoodRuleSets(r: Random, wanted: number): { sets: Understood[]; compiled: number } {
  const { binding } = loadYaraBinding();
  const sets: Understood[] = [];
  let compiled = 0;
  for (let tries = 0; sets.length < wanted && tries < wanted * 10; tries++) {
    const rules = Array.from({ length: 1 + r.int(3) }, (_, i) => randomRule(r, `r${i}`));
    const source = rules.map((rule) => rule.source).join("\n");
    let yara: BindingRules;
    try {
      yara = binding.compile(source);
    } catch {
      continue; // e.g. `2 of them` over one string: YARA-X refuses it
    }
    compiled++;
    const prefilter = derivePrefilter(source);
    if (prefilter) sets.push({ source, rules, yara, prefilter });
  }
  return { sets, compiled };
}

/** Plants the patterns (some with one byte changed) at `where`, and the checked integers (most of them). */
function plant(r: Random, set: Understood, bytes: Buffer, where: (length: number) => number): void {
  const patterns = set.rules.flatMap((rule) => rule.patterns);
  for (let i = 0, n = r.int(3); i < n && patterns.length > 0; i++) {
    const instance = r.pick(patterns).instance();
    if (r.chance(0.2) && instance.length > 1) instance[r.int(instance.length)] = r.pick(ALPHABET);
    if (instance.length > bytes.length) continue;
    let at = where(instance.length);
    if (at < 0 || at + instance.length > bytes.length) at = bytes.length - instance.length;
    instance.copy(bytes, at);
  }
  for (const c of set.rules.flatMap((rule) => rule.checks)) {
    if (!r.chance(0.75) || c.offset + c.width > bytes.length) continue;
    if (c.bigEndian) bytes.writeUIntBE(c.value, c.offset, c.width);
    else bytes.writeUIntLE(c.value, c.offset, c.width);
  }
}

const temp = tempDirs("prefilter-property");

describe("the exact prefilter on random rules (seeded), against YARA-X", () => {
  it("never rules out in memory a sample YARA-X matches", () => {
    const r = generator(20250611);
    const { sets, compiled } = understoodRuleSets(r, 300);
    let matched = 0;
    let ruledOut = 0;
    for (const set of sets) {
      for (let n = 0; n < 40; n++) {
        const size = r.pick([0, 1, 2, 3, 4, 5, 8, 12, 20, 40, 4095, 4096, 4097, 4099, 4100, 4101]);
        const bytes = Buffer.from(Array.from({ length: size }, () => r.pick(ALPHABET)));
        plant(r, set, bytes, (length) =>
          r.chance(0.3) ? 0 : r.chance(0.3) ? size - length : r.int(size - length + 1),
        );
        const yaraMatched = set.yara.scan(bytes).length > 0;
        const may = mayMatch(set.prefilter, bytes);
        if (yaraMatched) {
          matched++;
          expect(may, `${set.source}\non ${bytes.toString("hex")}`).toBe(true);
        } else if (!may) ruledOut++;
      }
    }
    expect(sets.length).toBeGreaterThan(compiled / 3);
    expect(matched).toBeGreaterThan(1000);
    expect(ruledOut).toBeGreaterThan(3000);
  });

  it("never rules out a file YARA-X matches, a string across each seam of the reading at every split", () => {
    const r = generator(7);
    const { sets } = understoodRuleSets(r, 40);
    const file = path.join(temp(), "sample");
    let matched = 0;
    let ruledOut = 0;
    let files = 0;
    const scan = (set: Understood, bytes: Buffer, what: string) => {
      writeFileSync(file, bytes);
      files++;
      const yaraMatched = set.yara.scan(bytes).length > 0;
      const sha256 = r.pick(["on-match", "always"] as const);
      const outcome = new SampleScanner(undefined, "property", set.prefilter).ruleOut(file, {
        maxSampleSize: 64 * MIB,
        timeoutMs: 60_000,
        sha256,
      });
      const noMatch = "verdict" in outcome && outcome.verdict === "no-match";
      if (yaraMatched) {
        matched++;
        expect(noMatch, `${set.source}\n${what} (${sha256})`).toBe(false);
      } else if (noMatch) ruledOut++;
    };
    for (const set of sets) {
      const patterns = set.rules.flatMap((rule) => rule.patterns);
      const checks = set.rules.flatMap((rule) => rule.checks);
      const setChecks = (bytes: Buffer) => {
        for (const c of checks) {
          if (c.offset + c.width > bytes.length) continue;
          if (c.bigEndian) bytes.writeUIntBE(c.value, c.offset, c.width);
          else bytes.writeUIntLE(c.value, c.offset, c.width);
        }
      };
      // Small files: the pattern at the start or the end, the integers wherever they fit.
      for (const size of [0, 1, 3, 4095, 4096, 4097]) {
        const bytes = Buffer.alloc(size, FILL);
        const instance = patterns.length > 0 ? r.pick(patterns).instance() : Buffer.alloc(0);
        if (instance.length <= size) instance.copy(bytes, r.chance(0.5) ? 0 : size - instance.length);
        setChecks(bytes);
        scan(set, bytes, `${size} bytes`);
      }
      if (patterns.length === 0) continue;
      // The reading: a 4 KiB head when the rules check integers, else a first 1 MiB; then 1 MiB chunks.
      const seam = set.prefilter.headBytes > 0 ? r.pick([4 * KIB, MIB + 4 * KIB]) : MIB;
      const instance = r.pick(patterns).instance();
      for (let back = 1; back < instance.length; back++) {
        const size = seam - back + instance.length + (r.chance(0.5) ? 0 : 1 + r.int(64));
        const bytes = Buffer.alloc(size, FILL);
        instance.copy(bytes, seam - back);
        setChecks(bytes);
        scan(set, bytes, `${instance.toString("hex")} at ${seam - back} in ${size} bytes`);
      }
    }
    expect(files).toBeGreaterThan(300);
    expect(matched).toBeGreaterThan(100);
    expect(ruledOut).toBeGreaterThan(40);
  });
});
