/**
 * The verdict of one sample scan: what the service stores with the sample and shows analysts.
 * Plain JSON (no Buffers, no bigint), so it can be stored and sent as it is.
 */

/** `match`: at least one rule matched. `skipped`: not scanned (too large, a device, a FIFO, a symlink out of root). */
export type VerdictWord = "match" | "no-match" | "error" | "skipped";

export type MetaValue = string | number | boolean;

export interface StringMatch {
  /** The pattern identifier, e.g. `$byte1`. */
  readonly identifier: string;
  /** Byte offset in the sample. */
  readonly offset: number;
  /** Length of the match in bytes. */
  readonly length: number;
  /** The matched bytes read from the sample itself (hex, lower case); at most MAX_MATCH_BYTES bytes of them. */
  readonly dataHex: string;
}

export interface RuleMatchReport {
  readonly rule: string;
  /** YARA-X's namespace of the rule: `default` for every rule (a set is compiled as one source, rule-names.ts). */
  readonly namespace: string;
  /** The rule file that declares the rule (its base name, `shm-creation.yar`), when the rule set knows it. */
  readonly file?: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, MetaValue>>;
  /** Pattern matches, at most MAX_STRINGS_PER_RULE of them; `omittedStrings` counts the rest. */
  readonly strings: readonly StringMatch[];
  readonly omittedStrings?: number;
}

export interface ElfHeaderFacts {
  readonly class: 32 | 64;
  readonly endianness: "little" | "big";
  readonly machine: { readonly name: string; readonly number: number };
  readonly type: { readonly name: string; readonly number: number };
}

export interface NotElf {
  readonly notElf: true;
  /** Why: no ELF magic, or a truncated or malformed header. */
  readonly reason: string;
}

export type ElfFacts = ElfHeaderFacts | NotElf;

export interface VerdictError {
  /** A stable diagnostic code: YARA410 (scan failed, engine crash, timeout) or YARA411 (a limit). */
  readonly code: string;
  readonly message: string;
}

export interface Verdict {
  readonly verdict: VerdictWord;
  /** SHA-256 of the content (hex); null when the content was not read (skipped, or failed before reading). */
  readonly sha256: string | null;
  /** Size in bytes (for a skipped file, what the file system reported). */
  readonly size: number;
  /** The scanned path, for file and directory scans. */
  readonly path?: string;
  readonly matches: readonly RuleMatchReport[];
  /** ELF header facts, absent when the content was not read. */
  readonly elf?: ElfFacts;
  /** Why the scan failed (`error`) or was skipped (`skipped`). */
  readonly error?: VerdictError;
  /** SHA-256 of the compiled rule sources, so a stored verdict says which rule set produced it. */
  readonly ruleset: string;
  readonly durationMs: number;
}

/** How many matched bytes a StringMatch carries. */
export const MAX_MATCH_BYTES = 256;
/** How many StringMatch entries a rule report carries. */
export const MAX_STRINGS_PER_RULE = 100;

export function isElfHeader(elf: ElfFacts | undefined): elf is ElfHeaderFacts {
  return elf !== undefined && !("notElf" in elf);
}
