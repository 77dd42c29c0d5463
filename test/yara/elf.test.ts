import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseElfHeader } from "../../src/yara/index.js";

function header(elfClass: 1 | 2, data: 1 | 2, type: number, machine: number): Uint8Array {
  const bytes = new Uint8Array(elfClass === 1 ? 52 : 64);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, elfClass, data, 1]);
  const view = new DataView(bytes.buffer);
  view.setUint16(16, type, data === 1);
  view.setUint16(18, machine, data === 1);
  return bytes;
}

describe("ELF header facts", () => {
  it("reads class, endianness, machine and type of a real binary", () => {
    const facts = parseElfHeader(readFileSync("/bin/true").subarray(0, 64));
    expect(facts).toMatchObject({ class: 64, endianness: "little" });
    expect("machine" in facts && facts.machine.number).toBeGreaterThan(0);
  });

  it("reads 32-bit little-endian and 64-bit big-endian headers", () => {
    expect(parseElfHeader(header(1, 1, 2, 3))).toEqual({
      class: 32,
      endianness: "little",
      machine: { name: "x86", number: 3 },
      type: { name: "EXEC", number: 2 },
    });
    expect(parseElfHeader(header(2, 2, 1, 22))).toEqual({
      class: 64,
      endianness: "big",
      machine: { name: "S390", number: 22 },
      type: { name: "REL", number: 1 },
    });
    expect(parseElfHeader(header(2, 1, 4, 9999))).toMatchObject({ machine: { name: "unknown", number: 9999 } });
  });

  it("says why something is not an ELF file", () => {
    expect(parseElfHeader(new Uint8Array())).toEqual({ notElf: true, reason: "no ELF magic" });
    expect(parseElfHeader(Buffer.from("MZ\x90\x00"))).toEqual({ notElf: true, reason: "no ELF magic" });
    expect(parseElfHeader(header(2, 1, 2, 62).subarray(0, 20))).toEqual({
      notElf: true,
      reason: "truncated ELF header: 20 of 64 bytes",
    });
    const badClass = header(2, 1, 2, 62);
    badClass[4] = 7;
    expect(parseElfHeader(badClass)).toMatchObject({ notElf: true, reason: "bad ELF class byte 7" });
  });
});
