/**
 * The exact prefilter with rules other than the seed rule (no integer check: the first read is 1 MiB;
 * checks beyond the 4 KiB head; several literals of different lengths; several rules), files cut at every seam
 * of the reading. Oracle: the Debian `yara` CLI (libyara) over the same files; shmhunt runs through scanPaths as
 * the CLI does (prefilterOnThisThread, hashes on match only) and as a service does (worker reads).
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner } from "../../src/yara/index.js";
import { tempDir } from "./tmp.js";

const KIB = 1024;
const MIB = 1024 * 1024;

const RULES = `
rule text_plain { strings: $a = "DERUSBI-LONG-LITERAL-0123456789" condition: $a }
rule hex_be_far {
  strings: $h = { 44 45 52 [1-3] 55 53 42 49 5F 48 45 58 ?? 21 }
  condition: uint32be(4096) == 0x41424344 and $h
}
rule short_le { strings: $s = "sh\\x00m" private $t = { 7A 7A ( 01 | 02 ) 7A } condition: (uint16(4094) == 0x2020) and 1 of them }
`;

const LITERALS: Record<string, Buffer> = {
  text: Buffer.from("DERUSBI-LONG-LITERAL-0123456789"),
  hex: Buffer.from("444552aa5553424948455800".concat("21"), "hex"),
  short: Buffer.from("sh\0m", "latin1"),
};

function file(size: number, at: number | undefined, literal: Buffer, header: boolean): Buffer {
  const bytes = Buffer.alloc(size, 0x20);
  if (header && size >= 4100) Buffer.from("41424344", "hex").copy(bytes, 4096);
  if (at !== undefined) literal.copy(bytes, at);
  return bytes.subarray(0, size);
}

describe("prefilter of non-seed rules against yara", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let tree: string;
  let ruleFile: string;
  const expected = new Map<string, string>();

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("review-prefilter"));
    tree = path.join(dir, "tree");
    await mkdir(tree, { recursive: true });
    ruleFile = path.join(dir, "rules", "review.yar");
    await mkdir(path.dirname(ruleFile));
    await writeFile(ruleFile, RULES);
    const files: [string, Buffer][] = [];
    for (const [name, literal] of Object.entries(LITERALS)) {
      const L = literal.length;
      for (const seam of [4 * KIB, 4 * KIB + 4, MIB, 4 * KIB + MIB, 4 * KIB + 4 + MIB, 2 * MIB, 2 * MIB + 4 * KIB]) {
        for (let back = 0; back <= L; back++) {
          files.push([`${name}-seam${seam}-b${back}`, file(seam + 40, seam - back, literal, true)]);
        }
      }
      for (const size of [4099, 4100, 4101, 4 * KIB + L, MIB - 1, MIB, MIB + 1, MIB + 4 * KIB + 4]) {
        files.push([`${name}-size${size}-end`, file(size, size - L, literal, true)]);
        files.push([`${name}-size${size}-nohdr`, file(size, size - L, literal, false)]);
      }
    }
    await Promise.all(files.map(([name, bytes]) => writeFile(path.join(tree, name), bytes)));
    const out = execFileSync("yara", ["-r", ruleFile, tree], { encoding: "utf8", maxBuffer: 64 * MIB });
    const byFile = new Map<string, string[]>();
    for (const line of out.split("\n").filter(Boolean)) {
      const [rule, p] = line.split(" ") as [string, string];
      byFile.set(path.basename(p), [...(byFile.get(path.basename(p)) ?? []), rule]);
    }
    for (const [name] of files) expected.set(name, byFile.get(name)?.sort().join(",") ?? "no-match");
  }, 120_000);
  afterAll(() => remove());

  for (const prefilterOnThisThread of [true, false]) {
    for (const sha256 of ["on-match", "always"] as const) {
      it(`agrees with yara on every file (prefilterOnThisThread ${prefilterOnThisThread}, sha256 ${sha256})`, async () => {
        const scanner = await createScanner({ rules: [ruleFile], workers: 1, prefilterOnThisThread, sha256 });
        try {
          expect((await scanner.rules()).prefilter).toBeDefined();
          const got = new Map<string, string>();
          for await (const v of scanner.scanPaths([tree])) {
            got.set(
              path.basename(v.path ?? ""),
              v.verdict === "match"
                ? v.matches
                    .map((m) => m.rule)
                    .sort()
                    .join(",")
                : v.verdict,
            );
          }
          expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
          expect([...expected.values()].filter((o) => o !== "no-match").length).toBeGreaterThan(50);
        } finally {
          await scanner.close();
        }
      }, 120_000);
    }
  }
});
