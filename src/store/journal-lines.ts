/**
 * The lines a journal batch appends, `<crc32 hex>\t<body>\n` each (local-state-store.ts), written into large
 * buffers as they are made: no buffer per line, and the lines are handed over in pieces of about `chunkBytes`.
 */
import { crc32 } from "node:zlib";

export class JournalLines {
  private taken: Buffer[] = [];
  private takenBytes = 0;
  private chunk: Buffer;
  /** Where the current chunk's lines begin (what was taken before is not in it), and end. */
  private from = 0;
  private used = 0;

  constructor(private readonly chunkBytes: number) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  /** Bytes added and not taken yet. */
  get pending(): number {
    return this.takenBytes + this.used - this.from;
  }

  /** Appends a line whose body is `body` (JSON text); answers its length in bytes, newline included. */
  add(body: string): number {
    // Written where it goes when the chunk has room for its most bytes (3 a UTF-16 unit), else measured first.
    if (this.used + HEAD + 3 * body.length + 1 > this.chunk.length)
      this.reserve(HEAD + Buffer.byteLength(body, "utf8") + 1);
    const at = this.used;
    const bytes = this.chunk.write(body, at + HEAD, "utf8");
    const length = HEAD + bytes + 1;
    const crc = crc32(this.chunk.subarray(at + HEAD, at + HEAD + bytes));
    this.chunk.write(crc.toString(16).padStart(8, "0"), at, 8, "latin1");
    this.chunk[at + 8] = TAB;
    this.chunk[at + HEAD + bytes] = NEWLINE;
    this.used += length;
    return length;
  }

  /** Appends a newline alone (ends a line a crash cut short, so the next line starts on a fresh one). */
  addNewline(): void {
    this.reserve(1);
    this.chunk[this.used++] = NEWLINE;
  }

  /** The bytes added so far, to be written in order; what is added next goes after them. */
  take(): Buffer[] {
    this.keep();
    const out = this.taken;
    this.taken = [];
    this.takenBytes = 0;
    return out;
  }

  /** The current chunk's lines, set aside to be taken. */
  private keep(): void {
    if (this.used > this.from) {
      this.taken.push(this.chunk.subarray(this.from, this.used));
      this.takenBytes += this.used - this.from;
    }
    this.from = this.used;
  }

  /** Room for `length` more bytes: a new chunk when the current one is full (its lines kept for `take`). */
  private reserve(length: number): void {
    if (this.used + length <= this.chunk.length) return;
    this.keep();
    this.chunk = Buffer.allocUnsafe(Math.max(this.chunkBytes, length));
    this.from = 0;
    this.used = 0;
  }
}

/** The checksum's 8 hex digits and the tab. */
const HEAD = 9;
const TAB = 0x09;
const NEWLINE = 0x0a;
