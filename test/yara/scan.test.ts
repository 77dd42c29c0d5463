import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner, isElfHeader, type Scanner, type Verdict } from "../../src/yara/index.js";
import { buildShmgetElf, OPT_LEVELS } from "../support/shmget-elf.js";
import { seedRules, tempDir } from "./tmp.js";

const PATTERN = /b6030000..40000000..0d5f0182/;
const RULE = "apt_nix_elf_Derusbi_Linux_SharedMemCreation";

describe("scanning samples with the seed rule", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let scanner: Scanner;
  const fixtures = new Map<string, string>();

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-scan"));
    for (const level of OPT_LEVELS) fixtures.set(level, await buildShmgetElf(path.join(dir, "fixtures"), level));
    scanner = await createScanner({ rules: [seedRules], workers: 2 });
  });
  afterAll(async () => {
    await scanner?.close();
    await remove();
  });

  it.each(OPT_LEVELS)(
    "matches the gcc %s build of the shmget program, with the bytes read from the sample",
    async (level) => {
      const file = fixtures.get(level)!;
      const verdict = await scanner.scanFile(file);
      expect(verdict.verdict).toBe("match");
      expect(verdict.path).toBe(file);
      const bytes = await readFile(file);
      expect(verdict.size).toBe(bytes.length);
      expect(verdict.sha256).toBe(sha256(bytes));
      expect(verdict.matches).toHaveLength(1);
      const [match] = verdict.matches;
      expect(match?.rule).toBe(RULE);
      expect(match?.meta).toEqual({ Author: "@seifreed" });
      const [hit] = match!.strings;
      expect(hit?.identifier).toBe("$byte1");
      expect(hit?.length).toBe(14);
      expect(hit?.dataHex).toMatch(PATTERN);
      expect(hit?.dataHex).toBe(bytes.subarray(hit!.offset, hit!.offset + 14).toString("hex"));
      expect(isElfHeader(verdict.elf) && verdict.elf.class).toBe(64);
      expect(verdict.elf).toMatchObject({ endianness: "little" });
    },
  );

  it("does not match a system binary (/bin/true)", async () => {
    const verdict = await scanner.scanFile("/bin/true");
    expect(verdict).toMatchObject({ verdict: "no-match", matches: [] });
    expect(isElfHeader(verdict.elf)).toBe(true);
  });

  it("does not match the same bytes without the ELF header, and says it is not ELF", async () => {
    const bytes = await readFile(fixtures.get("-O2")!);
    const headless = bytes.subarray(64);
    expect(headless.toString("hex")).toMatch(PATTERN);
    const verdict = await scanner.scanBuffer(headless);
    expect(verdict).toMatchObject({ verdict: "no-match", elf: { notElf: true, reason: "no ELF magic" } });
    // The same buffer with the header is a match: the ELF check, not the buffer path, made the difference.
    expect((await scanner.scanBuffer(bytes)).verdict).toBe("match");
  });

  it("handles truncated ELF files: header cut short, and cut before the pattern", async () => {
    const bytes = await readFile(fixtures.get("-O0")!);
    const stub = path.join(dir, "stub-elf");
    await writeFile(stub, bytes.subarray(0, 20));
    expect(await scanner.scanFile(stub)).toMatchObject({
      verdict: "no-match",
      size: 20,
      elf: { notElf: true, reason: "truncated ELF header: 20 of 64 bytes" },
    });
    const at = bytes.toString("hex").search(PATTERN) / 2;
    const cut = path.join(dir, "cut-elf");
    await writeFile(cut, bytes.subarray(0, at + 10));
    expect(await scanner.scanFile(cut)).toMatchObject({ verdict: "no-match", elf: { class: 64 } });
    const kept = path.join(dir, "kept-elf");
    await writeFile(kept, bytes.subarray(0, at + 14));
    expect((await scanner.scanFile(kept)).verdict).toBe("match");
  });

  it("treats a zero-byte file as a normal no-match", async () => {
    const empty = path.join(dir, "empty");
    await writeFile(empty, "");
    const verdict = await scanner.scanFile(empty);
    expect(verdict).toMatchObject({ verdict: "no-match", size: 0, matches: [], elf: { notElf: true } });
    expect(verdict.sha256).toBe(sha256(Buffer.alloc(0)));
    expect(verdict.error).toBeUndefined();
  });

  it("finds the pattern in the last bytes of a 512 MiB file with an ELF header", async () => {
    const big = path.join(dir, "big-512m");
    const elf = await readFile(fixtures.get("-O2")!);
    const at = elf.toString("hex").search(PATTERN) / 2;
    const pattern = elf.subarray(at, at + 14);
    const size = 512 * 1024 * 1024;
    await writeFile(big, elf.subarray(0, 64));
    await truncate(big, size);
    const handle = await open(big, "r+");
    await handle.write(pattern, 0, pattern.length, size - pattern.length);
    await handle.close();
    const verdict = await scanner.scanFile(big);
    expect(verdict.error).toBeUndefined();
    expect(verdict.verdict).toBe("match");
    expect(verdict.size).toBe(size);
    expect(verdict.elf).toMatchObject({ class: 64, endianness: "little" });
    // Large samples are mapped by YARA-X and hashed from the descriptor in chunks: the hash is still the file's.
    const whole = createHash("sha256");
    for await (const chunk of createReadStream(big)) whole.update(chunk as Buffer);
    expect(verdict.sha256).toBe(whole.digest("hex"));
    expect(verdict.matches[0]?.strings[0]).toMatchObject({
      offset: size - 14,
      length: 14,
      dataHex: pattern.toString("hex"),
    });
    // Same file without the pattern's last byte: no match.
    await truncate(big, size - 1);
    const again = await scanner.scanFile(big);
    expect(again.error).toBeUndefined();
    expect(again.verdict).toBe("no-match");
    await truncate(big, 0);
  }, 120_000);

  it("scans a stream and a buffer like the file", async () => {
    const bytes = await readFile(fixtures.get("-Os")!);
    const fromStream = await scanner.scanStream(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    const fromFile = await scanner.scanFile(fixtures.get("-Os")!);
    expect(fromStream.path).toBeUndefined();
    expect(strip(fromStream)).toEqual(strip({ ...fromFile, path: undefined }));
    expect(strip(await scanner.scanBuffer(bytes))).toEqual(strip({ ...fromFile, path: undefined }));
    // A large buffer (spooled through a temporary file) gives the same verdict shape, without a path.
    const large = Buffer.concat([bytes, Buffer.alloc(5 * 1024 * 1024)]);
    const verdict = await scanner.scanBuffer(large);
    expect(verdict).toMatchObject({ verdict: "match", size: large.length, sha256: sha256(large) });
    expect(verdict.elf).toEqual(fromFile.elf);
    expect(verdict.matches).toEqual(fromFile.matches);
    expect(verdict.path).toBeUndefined();
  });

  it("spools a stream and a large buffer into the folders `tempFolder` makes (the service's owner-named ones), and removes them", async () => {
    const made: string[] = [];
    const removed: string[] = [];
    const spooled: string[][] = [];
    const given = await createScanner({
      rules: [seedRules],
      workers: 1,
      tempFolder: async () => {
        const folder = await mkdtemp(path.join(dir, "given-"));
        made.push(folder);
        return {
          path: folder,
          remove: async () => {
            spooled.push(await readdir(folder));
            removed.push(folder);
            await rm(folder, { recursive: true, force: true });
          },
        };
      },
    });
    try {
      const bytes = await readFile(fixtures.get("-Os")!);
      expect((await given.scanBuffer(bytes)).verdict).toBe("match");
      expect(made).toEqual([]); // a small buffer travels in the message
      expect((await given.scanStream(Readable.from([bytes]))).verdict).toBe("match");
      const large = Buffer.concat([bytes, Buffer.alloc(5 * 1024 * 1024)]);
      expect((await given.scanBuffer(large)).verdict).toBe("match");
      expect(made).toHaveLength(2);
      expect(removed).toEqual(made);
      // Each held the spooled sample while it was scanned, and is gone now.
      expect(spooled).toEqual([["sample"], ["sample"]]);
      for (const folder of made) await expect(stat(folder)).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await given.close();
    }
  });

  it("hashes only matching samples when asked to (sha256: on-match)", async () => {
    const sweep = await createScanner({ rules: [seedRules], workers: 1, sha256: "on-match" });
    try {
      const hit = await sweep.scanFile(fixtures.get("-O2")!);
      expect(hit.sha256).toBe(sha256(await readFile(fixtures.get("-O2")!)));
      expect(await sweep.scanFile("/bin/true")).toMatchObject({ verdict: "no-match", sha256: null });
    } finally {
      await sweep.close();
    }
  });

  it("skips samples over the size limit, from a file, a buffer and a stream", async () => {
    const small = await createScanner({ rules: [seedRules], workers: 1, maxSampleSize: 1000 });
    try {
      const file = fixtures.get("-O2")!;
      const verdict = await small.scanFile(file);
      expect(verdict).toMatchObject({ verdict: "skipped", sha256: null, error: { code: "YARA411" } });
      expect(verdict.error?.message).toMatch(/over the maximum sample size of 1000 bytes/);
      expect((await small.scanBuffer(Buffer.alloc(1001))).verdict).toBe("skipped");
      expect((await small.scanStream(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]))).verdict).toBe("skipped");
      expect((await small.scanBuffer(Buffer.alloc(1000))).verdict).toBe("no-match");
    } finally {
      await small.close();
    }
  });

  it("walks a directory recursively, streaming verdicts, skipping FIFOs, devices and symlinks out of the root", async () => {
    const root = path.join(dir, "tree");
    await mkdir(path.join(root, "a", "b"), { recursive: true });
    await writeFile(path.join(root, "a", "b", "sample"), await readFile(fixtures.get("-O2")!));
    await writeFile(path.join(root, "a", "text"), "hello");
    await writeFile(path.join(root, "empty"), "");
    execFileSync("mkfifo", [path.join(root, "a", "fifo")]);
    await symlink("/bin/true", path.join(root, "outside-link"));
    await symlink(path.join(root, "a", "b", "sample"), path.join(root, "inside-link"));
    await symlink(path.join(root, "a"), path.join(root, "dir-link"));
    await symlink("/dev/null", path.join(root, "devnull-link"));
    const verdicts: Verdict[] = [];
    const iterator = scanner.scanPaths([root, path.join(dir, "no-such-file")]);
    for await (const verdict of iterator) verdicts.push(verdict);
    const byPath = new Map(verdicts.map((v) => [path.relative(root, v.path ?? ""), v]));
    expect(byPath.get("a/b/sample")?.verdict).toBe("match");
    expect(byPath.get("inside-link")?.verdict).toBe("match");
    expect(byPath.get("a/text")?.verdict).toBe("no-match");
    expect(byPath.get("empty")?.verdict).toBe("no-match");
    expect(byPath.get("a/fifo")).toMatchObject({ verdict: "skipped", error: { message: "not a regular file (FIFO)" } });
    expect(byPath.get("outside-link")).toMatchObject({ verdict: "skipped" });
    expect(byPath.get("outside-link")?.error?.message).toMatch(/outside the scanned root/);
    expect(byPath.get("devnull-link")?.error?.message).toMatch(/outside the scanned root/);
    expect(byPath.get("dir-link")?.verdict).toBe("skipped");
    expect(verdicts.find((v) => v.path?.endsWith("no-such-file"))).toMatchObject({ verdict: "error" });
    expect(verdicts).toHaveLength(9);
  });

  it("refuses a directory given as a single file", async () => {
    expect(await scanner.scanFile(dir)).toMatchObject({
      verdict: "error",
      error: { code: "YARA410", message: "is a directory (scan it with scanPaths)" },
    });
  });

  it("skips a device or FIFO named directly, without opening it", async () => {
    expect(await scanner.scanFile("/dev/null")).toMatchObject({
      verdict: "skipped",
      error: { message: "not a regular file (character device)" },
    });
  });

  it("uses any rule dropped into the rules directory, nothing about the seed rule is built in", async () => {
    const rules = path.join(dir, "other-rules");
    await mkdir(rules, { recursive: true });
    await writeFile(
      path.join(rules, "greeting.yar"),
      'rule greeting : demo { meta: score = 7 strings: $hi = "hello" nocase condition: $hi }\n',
    );
    const other = await createScanner({ rules: [rules], workers: 1, ruleCheckIntervalMs: 0 });
    try {
      const verdict = await other.scanBuffer(Buffer.from("xx HeLLo \x00\xff"));
      expect(verdict.matches).toEqual([
        {
          rule: "greeting",
          namespace: "default",
          file: "greeting.yar",
          tags: ["demo"],
          meta: { score: 7 },
          strings: [{ identifier: "$hi", offset: 3, length: 5, dataHex: Buffer.from("HeLLo").toString("hex") }],
        },
      ]);
      expect((await other.scanFile(fixtures.get("-O2")!)).verdict).toBe("no-match");
      // Editing the rule file is picked up on the next scan.
      await writeFile(path.join(rules, "greeting.yar"), 'rule bye { strings: $b = "bye" condition: $b }\n');
      expect((await other.scanBuffer(Buffer.from("hello"))).verdict).toBe("no-match");
      expect((await other.scanBuffer(Buffer.from("bye"))).matches[0]?.rule).toBe("bye");
    } finally {
      await other.close();
    }
  });
});

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function strip(verdict: Verdict): Omit<Verdict, "durationMs"> {
  const { durationMs: _ignored, ...rest } = verdict;
  return JSON.parse(JSON.stringify(rest));
}
