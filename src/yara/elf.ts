/** The few ELF header facts a verdict carries (class, endianness, machine, type), from a small header parse. */
import type { ElfFacts } from "./verdict.js";

/** Bytes a caller must pass to get every fact: the 64-bit header size. */
export const ELF_HEADER_BYTES = 64;

const MACHINES: Readonly<Record<number, string>> = {
  0: "none",
  2: "SPARC",
  3: "x86",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S390",
  40: "ARM",
  42: "SuperH",
  43: "SPARCV9",
  50: "IA-64",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
  247: "BPF",
  258: "LoongArch",
};

const TYPES: Readonly<Record<number, string>> = {
  0: "NONE",
  1: "REL",
  2: "EXEC",
  3: "DYN",
  4: "CORE",
};

/** Parses the start of a file (at least ELF_HEADER_BYTES when available). Never throws. */
export function parseElfHeader(head: Uint8Array): ElfFacts {
  if (head.length < 4 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return { notElf: true, reason: "no ELF magic" };
  }
  if (head.length < 6) {
    return { notElf: true, reason: `truncated ELF header: ${head.length} bytes, cut before its class and data bytes` };
  }
  const elfClass = head[4];
  const data = head[5];
  if (elfClass !== 1 && elfClass !== 2) return { notElf: true, reason: `bad ELF class byte ${String(elfClass)}` };
  if (data !== 1 && data !== 2) return { notElf: true, reason: `bad ELF data (endianness) byte ${String(data)}` };
  const headerSize = elfClass === 1 ? 52 : 64;
  if (head.length < headerSize) {
    return { notElf: true, reason: `truncated ELF header: ${head.length} of ${headerSize} bytes` };
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const little = data === 1;
  const type = view.getUint16(16, little);
  const machine = view.getUint16(18, little);
  return {
    class: elfClass === 1 ? 32 : 64,
    endianness: little ? "little" : "big",
    machine: { name: MACHINES[machine] ?? "unknown", number: machine },
    type: { name: TYPES[type] ?? (type >= 0xfe00 ? "OS/processor-specific" : "unknown"), number: type },
  };
}
