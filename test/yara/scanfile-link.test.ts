/**
 * `Scanner.scanFile` given a symbolic link to a directory: not one sample. It used to follow the link with the
 * directory walk and answer the verdict of the first file found there under the link's name, so a folder holding
 * clean files and a Derusbi sample could read `no-match`. Oracle: the Debian `yara` CLI over the same folder, which
 * finds the sample; and `scanFile` on the directory itself, an error.
 */
import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner } from "../../src/yara/index.js";
import { seedRules, tempDir } from "./tmp.js";

/** The Derusbi `shmget` bytes of rules/shm-creation.yar, in an ELF-headed file. */
const PATTERN = Buffer.from("B60300001140000000220D5F0182", "hex");
const ELF_MAGIC = Buffer.from("7f454c46", "hex");

describe("scanFile on a link to a directory", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let link: string;
  let folder: string;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("scanfile-link"));
    folder = path.join(dir, "folder");
    await mkdir(folder);
    const clean = Buffer.alloc(256);
    ELF_MAGIC.copy(clean);
    const derusbi = Buffer.from(clean);
    PATTERN.copy(derusbi, 100);
    for (let i = 0; i < 8; i++) await writeFile(path.join(folder, `clean-${i}`), clean);
    await writeFile(path.join(folder, "zz-derusbi"), derusbi);
    link = path.join(dir, "link");
    await symlink(folder, link);
  });
  afterAll(() => remove());

  it("yara finds the Derusbi sample in the folder (the oracle)", () => {
    const out = execFileSync("yara", ["-r", path.join(seedRules, "shm-creation.yar"), link], { encoding: "utf8" });
    expect(out).toContain("zz-derusbi");
  });

  it("answers as for the directory itself: an error, not one of its files' verdicts", async () => {
    const scanner = await createScanner({ rules: [seedRules], workers: 1 });
    try {
      const direct = await scanner.scanFile(folder);
      const viaLink = await scanner.scanFile(link);
      expect(direct.verdict).toBe("error");
      expect(viaLink.verdict).toBe("error");
      expect(viaLink.error?.message).toBe(direct.error?.message);
      expect(viaLink.path).toBe(link);
    } finally {
      await scanner.close();
    }
  });
});
