/**
 * The ELF facts of a file that holds the ELF magic and is cut short before the class or data byte. The
 * verdict's reason must say the header is truncated (docs/yara.md: "truncated ELF header: 20 of 64 bytes"), not
 * name a byte that is not there ("bad ELF class byte undefined").
 */
import { describe, expect, it } from "vitest";
import { parseElfHeader } from "../../src/yara/elf.js";

describe("ELF facts of a header cut within its first 6 bytes", () => {
  for (const hex of ["7f454c46", "7f454c4602"]) {
    it(`says a ${hex.length / 2}-byte file with the ELF magic is a truncated header`, () => {
      const facts = parseElfHeader(Buffer.from(hex, "hex"));
      expect(facts).toMatchObject({ notElf: true });
      expect((facts as { reason: string }).reason).not.toMatch(/undefined/);
      expect((facts as { reason: string }).reason).toMatch(/^truncated ELF header/);
    });
  }
});
