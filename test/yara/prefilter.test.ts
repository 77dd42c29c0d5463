/**
 * The exact prefilter (src/yara/prefilter.ts). The oracle is YARA-X itself (the real binding, not shmhunt's code):
 * for every rule the prefilter understands, no sample YARA-X matches may be ruled out. Rules outside its grammar
 * must get no prefilter at all.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadYaraBinding } from "../../src/yara/binding.js";
import { derivePrefilter, LiteralSearch, mayMatch } from "../../src/yara/prefilter.js";
import { seedRules } from "./tmp.js";

const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString("hex") : undefined);

/** A small deterministic generator (the same samples every run). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state;
  };
}

describe("the exact prefilter", () => {
  it("derives the seed rule's need: the ELF magic and a fixed run of its hex string", () => {
    // rules/shm-creation.yar: `$byte1 = { B6 03 00 00 ?? 40 00 00 00 ?? 0D 5F 01 82 }`,
    // `condition: (uint32(0) == 0x464C457F) and (any of them)`.
    const prefilter = derivePrefilter(readFileSync(path.join(seedRules, "shm-creation.yar"), "utf8"));
    expect(prefilter?.needs).toHaveLength(1);
    const [need] = prefilter!.needs;
    expect(need?.checks).toEqual([{ offset: 0, width: 4, bigEndian: false, value: 0x464c457f }]);
    expect(need?.literals?.map(hex)).toEqual(["0d5f0182"]);
  });

  it.each([
    ['rule a { strings: $a = "abc" nocase condition: $a }', "nocase changes the bytes"],
    ['rule a { strings: $a = "abc" wide condition: $a }', "wide"],
    ['rule a { strings: $a = "abc" xor condition: $a }', "xor"],
    ['rule a { strings: $a = "abcd" base64 condition: $a }', "base64"],
    ["rule a { strings: $a = /abc/ condition: $a }", "a regular expression"],
    ['rule a { strings: $a = "abc" condition: $a or filesize > 10 }', "or"],
    ['rule a { strings: $a = "abc" condition: not $a }', "not"],
    ['rule a { strings: $a = "abc" condition: none of them }', "none"],
    ['rule a { strings: $a = "abc" condition: any of them at 0 }', "at"],
    ['rule a { strings: $a = "abc" condition: $a in (0..10) }', "in"],
    ['rule a { strings: $a = "abc" condition: #a == 0 }', "a count"],
    ['rule a { strings: $a = "abc" condition: 0 of them }', "0 of them"],
    ['rule a { strings: $a = "abc" condition: 1 of ($a*) }', "a string set"],
    ['rule a { strings: $a = "abc" condition: $a } rule b { condition: a }', "a rule reference"],
    ['rule a { strings: $a = "abc" condition: $a } rule b { condition: true }', "a rule with no need"],
    ["rule a { strings: $a = { ( 61 | 62 ) ?? } condition: $a }", "no fixed byte outside an alternative"],
    ["rule a { strings: $a = { 61 62 // c\n 63 } condition: $a }", "a comment inside a hex string"],
    ['rule a { strings: $a = "abc" condition: filesize > 2 and $a }', "filesize"],
    ['import "elf" rule a { strings: $a = "abc" condition: elf.type == 1 and $a }', "a module field"],
  ])("gives no prefilter for %j (%s)", (source) => {
    expect(derivePrefilter(source)).toBeUndefined();
  });

  // Each rule compiles with YARA-X and is understood; YARA-X's verdict on every sample is the oracle.
  const understood = [
    "rule a { strings: $a = { 0D 5F 01 82 } condition: uint32(0) == 0x464C457F and any of them }",
    'rule a { strings: $a = "xyz" $b = { 41 ?? 42 43 [1-3] 44 } condition: any of them }',
    'rule a { strings: $a = "xy\\"z\\x00" private $b = "qq" fullword condition: ($a and (uint8(1) == 0x79)) and $b }',
    "rule a { strings: $a = { 41 ( 42 | 43 ) 44 45 ~46 47 4? } condition: all of them }",
    'global rule g { strings: $g = "xy" condition: $g } rule b : tag { meta: m = "}" n = -1 strings: $b = "zz" condition: 1 of them }',
    "rule a { condition: uint16be(2) == 0x797A } rule b { strings: $b = { 7A 7A 7A } condition: $b and true }",
    "rule a { strings: $a = { 78 79 } condition: uint32be(0) == 0x78797a00 and $a }",
  ];

  it("understands every rule of the differential set", () => {
    for (const source of understood) expect(derivePrefilter(source), source).toBeDefined();
  });

  it("never rules out a sample YARA-X matches (and rules out most of the others)", () => {
    const { binding } = loadYaraBinding();
    const next = random(20261206);
    const pieces = ["\x7fELF", "xyz", "xy", "zz", "zzz", "AB", "ACDE", "EG", "qq", 'xy"z\0', "\r\x5f\x01\x82"].map(
      (p) => Buffer.from(p, "latin1"),
    );
    let matched = 0;
    let ruledOut = 0;
    for (const source of understood) {
      const rules = binding.compile(source);
      const prefilter = derivePrefilter(source)!;
      for (let n = 0; n < 400; n++) {
        // Random bytes from a small alphabet with known pieces planted: matches happen often enough to count.
        const parts: Buffer[] = [];
        const count = next() % 6;
        for (let i = 0; i < count; i++) {
          parts.push(
            next() % 2 === 0
              ? (pieces[next() % pieces.length] as Buffer)
              : Buffer.from([...Array(next() % 4)].map(() => 0x41 + (next() % 8))),
          );
        }
        const sample = Buffer.concat(parts);
        const yaraMatched = rules.scan(sample).length > 0;
        const may = mayMatch(prefilter, sample);
        if (yaraMatched) {
          matched++;
          expect(may, `${source} on ${sample.toString("hex")}`).toBe(true);
        } else if (!may) ruledOut++;
      }
    }
    expect(matched).toBeGreaterThan(100);
    expect(ruledOut).toBeGreaterThan(100);
  });

  it("finds a literal that straddles two chunks, at every split", () => {
    const literal = Buffer.from("0d5f0182", "hex");
    for (let size = 8; size <= 24; size++) {
      for (let at = 0; at + literal.length <= size; at++) {
        const data = Buffer.alloc(size, 0x11);
        literal.copy(data, at);
        for (let chunk = 1; chunk <= size; chunk++) {
          const search = new LiteralSearch([literal]);
          let found = false;
          for (let i = 0; i < size && !found; i += chunk) found = search.push(data.subarray(i, i + chunk));
          expect(found, `size ${size}, at ${at}, chunk ${chunk}`).toBe(true);
        }
        const search = new LiteralSearch([literal]);
        expect(search.push(data.subarray(0, at + 3)) || search.push(Buffer.alloc(4, 0x11))).toBe(false);
      }
    }
  });
});
