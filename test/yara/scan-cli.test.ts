import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import type { Verdict } from "../../src/yara/index.js";
import { buildShmgetElf } from "../support/shmget-elf.js";
import { seedRules, tempDir } from "./tmp.js";

describe("shmhunt scan", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let tree: string;
  let stdout: string[];
  let stderr: string[];

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-cli"));
    tree = path.join(dir, "tree");
    await mkdir(path.join(tree, "sub"), { recursive: true });
    await buildShmgetElf(path.join(tree, "sub"), "-O2");
    await copyFile("/bin/true", path.join(tree, "true"));
    await writeFile(path.join(tree, "notes.txt"), "nothing here");
  });
  afterAll(() => remove());

  async function run(...args: string[]): Promise<number> {
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      stdout.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    return main(["node", "shmhunt", "scan", ...args]);
  }
  afterEach(() => vi.restoreAllMocks());

  it("prints one NDJSON verdict per file and exits 0 even when something matched", async () => {
    expect(await run(tree, "--rules", seedRules, "--json", "--workers", "1")).toBe(0);
    const verdicts = stdout
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Verdict);
    expect(verdicts).toHaveLength(3);
    const byName = new Map(verdicts.map((v) => [path.basename(v.path ?? ""), v]));
    expect(byName.get("shmget_O2")?.verdict).toBe("match");
    expect(byName.get("shmget_O2")?.matches[0]?.rule).toBe("apt_nix_elf_Derusbi_Linux_SharedMemCreation");
    expect(byName.get("true")?.verdict).toBe("no-match");
    expect(byName.get("notes.txt")).toMatchObject({ verdict: "no-match", elf: { notElf: true } });
    expect(stderr.join("")).toBe("");
  });

  it("exits 1 with --fail-on-match when a file matched, 0 when none did", async () => {
    expect(await run(tree, "--rules", seedRules, "--fail-on-match")).toBe(1);
    expect(stdout.join("")).toMatch(/^match +\S+shmget_O2 +apt_nix_elf_Derusbi_Linux_SharedMemCreation +sha256=/m);
    expect(stderr.join("")).toBe("shmhunt: 1 file(s) matched (--fail-on-match)\n");
    expect(await run(path.join(tree, "true"), "--rules", seedRules, "--fail-on-match")).toBe(0);
    expect(stdout.join("")).toMatch(/^no-match +\S+true$/m);
  });

  it("applies --max-size and reports skipped files", async () => {
    expect(await run(tree, "--rules", seedRules, "--json", "--max-size", "1K")).toBe(0);
    const verdicts = stdout
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Verdict);
    expect(verdicts.filter((v) => v.verdict === "skipped").map((v) => path.basename(v.path ?? ""))).toEqual(
      expect.arrayContaining(["shmget_O2", "true"]),
    );
  });

  it("fails with file:line:column when a rule does not compile, and on a path it cannot scan", async () => {
    const bad = path.join(dir, "bad.yar");
    await writeFile(bad, "rule bad {\n  condition:\n    missing_identifier\n}\n");
    expect(await run(tree, "--rules", bad)).toBe(1);
    expect(stderr.join("")).toMatch(/^shmhunt: .*bad\.yar:3:5: error YARA400: E009 unknown identifier/);
    expect(await run(path.join(dir, "nope"), "--rules", seedRules)).toBe(2);
    expect(stderr.join("")).toMatch(/^shmhunt: 1 file\(s\) could not be scanned; first: .*nope: /);
    expect(await run(tree, "--max-size", "lots")).toBe(1);
    expect(stderr.join("")).toMatch(/--max-size: not a size/);
  });

  it("shares files over 1 MiB with its worker and misses no match, not even one across two reads", async () => {
    // The seed rule's bytes as gcc emits them (docs: `mov edx, 0x3B6; mov esi, 0x40; mov edi, 0x82015F0D`) and an
    // ELF header (the start of /bin/true): a file holding both matches the rule, wherever the bytes are.
    const pattern = Buffer.from("b6030000be40000000bf0d5f0182", "hex");
    const elf = await readFile("/bin/true");
    const large = path.join(dir, "large");
    await mkdir(large, { recursive: true });
    const sample = (size: number, head: Buffer, patternAt?: number) => {
      const bytes = Buffer.alloc(size);
      head.copy(bytes, 0, 0, Math.min(head.length, size));
      if (patternAt !== undefined) pattern.copy(bytes, patternAt);
      return bytes;
    };
    const mib = 1024 * 1024;
    // The CLI reads a 4 KiB head, then 1 MiB at a time: `0d 5f 01 82` across the first of those seams, and at the end.
    const across = 4096 + mib - pattern.length + 2;
    const files: Record<string, Buffer> = {
      "match-across-reads": sample(3 * mib, elf, across),
      "match-at-end": sample(5 * mib + 7, elf, 5 * mib + 7 - pattern.length),
      "not-elf-with-bytes": sample(2 * mib, Buffer.from("plain text"), mib),
    };
    for (let i = 0; i < 8; i++) files[`clean-${i}`] = sample((2 + (i % 4)) * mib + i, elf);
    await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(path.join(large, name), bytes)));
    expect(await run(large, "--rules", seedRules, "--json", "--workers", "1")).toBe(0);
    const verdicts = stdout
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Verdict);
    expect(verdicts.map((v) => path.basename(v.path ?? "")).sort()).toEqual(Object.keys(files).sort());
    expect(verdicts.filter((v) => v.verdict !== "no-match" && v.verdict !== "match")).toEqual([]);
    const matched = verdicts.filter((v) => v.verdict === "match");
    expect(matched.map((v) => path.basename(v.path ?? "")).sort()).toEqual(["match-across-reads", "match-at-end"]);
    for (const v of matched) expect(v.matches[0]?.strings[0]?.dataHex).toBe(pattern.toString("hex"));
    for (const v of verdicts) expect(v.size).toBe(files[path.basename(v.path ?? "")]?.length);
  });

  it("ends a large directory's scan with one summary line on stderr (not a terminal: no progress), none with --json", async () => {
    const many = path.join(dir, "many");
    await mkdir(many, { recursive: true });
    await Promise.all(Array.from({ length: 520 }, (_, i) => writeFile(path.join(many, `f${i}`), `file ${i}`)));
    expect(await run(many, "--rules", seedRules)).toBe(0);
    expect(stdout.join("").trim().split("\n")).toHaveLength(520);
    expect(stderr.join("")).toBe("scanned 520 files (0 MB): 0 matched, 0 skipped, 0 errors\n");
    expect(await run(many, "--rules", seedRules, "--json")).toBe(0);
    expect(stderr.join("")).toBe("");
  });
});
