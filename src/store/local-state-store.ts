/**
 * State in local files as an append-only journal: `<dir>/journal.<generation>`, one line per written record,
 * `<crc32 hex>\t{"o":"p"|"d","k":kind,"p":partition,"y":key,"v":value}`. A batch of writes is one append and one
 * fdatasync, whatever its size; that is the store's unit of durability.
 *
 * - Large parts of a value (an object of many keys, e.g. a result row, written in its shape; a long string met
 *   before, e.g. a query text; a frozen array, e.g. an incident's labels: journal-parts.ts) are written once, as a
 *   line of their own, `<crc32 hex>\t{"o":"b","y":<id>,"v":part}` (in a shape: `"c":<shape id>,"a":[values]`),
 *   before the first record that holds them; a record
 *   line then has `null` in their place and names them, `"r":[[[path…],id]…]`. A hunt writes one row in its hit,
 *   its bookmark and its incident, and one query in every bookmark: each once. A part is encoded once per object
 *   while the object is not changed (journal-parts.ts); one changed after it was written is written as it is now.
 *
 * - Readers keep an index (record → line offset and length; journal-index.ts, which keeps hashes of the names, not
 *   the names) and read values from the file on demand. Before every operation a reader takes in the lines other
 *   processes appended.
 * - Writers (in this process or others, e.g. the server and the CLI on one folder) append under `<dir>/journal.lock`
 *   (linked into place whole, holding the owner's pid, start time and token; a lock whose owner is gone is broken,
 *   also one of this pid but another process, a restarted container's; by one waiter at a time). Under the lock
 *   the writer has read every line, so a create-if-absent (and a compare-and-swap or -delete) is decided there and
 *   only the operations that won are written.
 * - A line cut short by a crash, or one whose checksum does not hold, is skipped, reported by `damaged()` and copied
 *   to `<dir>/quarantine/`; the next append that writes starts on a fresh line (one whole but for its newline is
 *   ended and read, not reported). It never stops the rest. The index takes a line's head only (journal-head.ts):
 *   a whole line whose value is not JSON (a writer's fault) is reported so, and set aside, when it is read.
 * - Small file operations run on the calling thread: the lock's link and unlinks, the journal's fstat, a read or a
 *   write of up to SYNC_IO_BYTES (a record, a lease, the lines another process appended lately). From the page cache
 *   each takes microseconds, where the hop through libuv's thread pool that an asynchronous call makes cost ~0.1 ms
 *   here: a record read took ~0.3 ms, a one-record write ~1.4 ms (docs/service.md has the figures). The fdatasync,
 *   large reads and large writes stay asynchronous, the event loop free meanwhile.
 * - Compaction: when the journal outgrows `compactAtBytes` and holds more dead lines than live ones, the live lines
 *   are copied to the next generation (written, fsynced, renamed into place), off the writer's path, with a tail a
 *   crash left handled first as an append handles it; the new generation is opened, then every older one is
 *   unlinked, and readers holding one notice (its link count is 0, or a later generation is there: a compactor
 *   killed before its unlink, whose old generation the next writer to open the folder, or the next compaction,
 *   removes) and reopen. A store opens the newest generation it lists without creating it (O_CREAT only when there
 *   is none), listing again if a compaction replaced it meanwhile. A compaction also removes the temporary files of
 *   processes killed while they compacted or waited for the lock, and its own copy when it fails.
 */
import { randomBytes } from "node:crypto";
import {
  constants,
  fstatSync,
  linkSync,
  mkdirSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writevSync,
} from "node:fs";
import { type FileHandle, link, mkdir, open, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { type LineHead, readLineHead, validRefs } from "./journal-head.js";
import { JournalIndex, type Place, type RecordNames } from "./journal-index.js";
import { JournalLines } from "./journal-lines.js";
import { decodePart, type Part, partLine, placePart, shapeLine, withoutParts } from "./journal-parts.js";
import { decodeName } from "./names.js";
import { recordId } from "./record-id.js";
import {
  type DamagedRecord,
  isConditional,
  type StateKind,
  type StateOp,
  type StateRecord,
  type StateStore,
  sameValue,
  stateKinds,
} from "./state-store.js";
import { isRunning, startOf } from "./temp-folder.js";

export interface LocalStateOptions {
  /** Compact when the journal is larger than this (bytes) and mostly dead lines; default 64 MiB. */
  readonly compactAtBytes?: number;
  /** How long to wait for another process's lock before failing (ms); default 30 s. */
  readonly lockTimeoutMs?: number;
}

interface Journal {
  readonly generation: number;
  readonly handle: FileHandle;
  /** The file's size when it was last looked at (`refresh`): past `read` only by a line cut short. */
  size: number;
  /** Bytes of the file taken into the index (always the end of a complete line). */
  read: number;
}

const JOURNAL = /^journal\.(\d{10})$/;
/** A temporary file of this store's, named with its process id (see `removeLeftovers`). */
const LEFTOVER = /^\.(?:compact|import|lock)-(\d+)-[0-9a-f]+$/;
const NEWLINE = 0x0a;
const NEWLINE_BYTE = Buffer.from("\n");
const READ_CHUNK = 4 * 2 ** 20;
const SHAPES_KEPT = 64;
/** Listings and opens of the newest generation before giving up, when compactions keep replacing it meanwhile. */
const OPEN_ATTEMPTS = 100;
/** A batch's lines are written out in pieces of about this size (one fdatasync at the end, whatever the size). */
const WRITE_CHUNK = 2 ** 20;

export class LocalStateStore implements StateStore {
  private journal: Journal | undefined;
  /** Where the records and the parts (large strings and objects records refer to) are, and what is live. */
  private readonly index = new JournalIndex((place) => this.namesAt(place));
  /** The keys of the shapes read lately (journal-parts.ts), by id. */
  private readonly shapes = new Map<string, string[]>();
  private readonly damage: DamagedRecord[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private compacting: Promise<void> | undefined;
  private closing = false;
  private readonly compactAtBytes: number;
  private readonly lockTimeoutMs: number;

  constructor(
    readonly dir: string,
    options: LocalStateOptions = {},
  ) {
    this.compactAtBytes = options.compactAtBytes ?? 64 * 2 ** 20;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  }

  get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    return this.serial(async () => {
      const journal = await this.refresh();
      return (await this.valueOf(journal, kind, partition, key)) as T | undefined;
    });
  }

  getMany<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    return this.serial(async () => {
      const journal = await this.refresh();
      const out: Array<T | undefined> = [];
      for (const key of keys) {
        out.push((await this.valueOf(journal, kind, partition, key)) as T | undefined);
      }
      return out;
    });
  }

  async create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean> {
    const [created] = await this.batch([{ op: "create", kind, partition, key, value }]);
    return created === true;
  }

  async put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void> {
    await this.batch([{ op: "put", kind, partition, key, value }]);
  }

  async delete(kind: StateKind, partition: string, key: string): Promise<void> {
    await this.batch([{ op: "delete", kind, partition, key }]);
  }

  list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    return this.serial(async () => {
      const journal = await this.refresh();
      // Each line read once (its key and value), in the order of the journal; then sorted by partition and key.
      const found = this.index.recordsOf(kind, partition).sort((a, b) => a.place.offset - b.place.offset);
      const records: StateRecord<T>[] = [];
      for (const { partition: p, place } of found) {
        const read = await this.read(journal, place);
        if (read !== undefined) records.push({ partition: p, key: read.key, value: read.value as T });
      }
      return records.sort((a, b) => compare(a.partition, b.partition) || compare(a.key, b.key));
    });
  }

  batch(ops: readonly StateOp[]): Promise<boolean[]> {
    if (ops.length === 0) return Promise.resolve([]);
    const results = this.serial(() => this.locked(() => this.append(ops)));
    void results.then(
      () => this.maybeCompact(),
      () => undefined,
    );
    return results;
  }

  damaged(): readonly DamagedRecord[] {
    return [...this.damage];
  }

  async close(): Promise<void> {
    // No compaction starts from here on (one a batch still running would start after the journal is closed, and
    // reopen it); one already started is waited for.
    this.closing = true;
    await this.compacting;
    await this.serial(async () => {
      await this.journal?.handle.close();
      this.journal = undefined;
    });
  }

  /** Under the lock: every line read, so creates are decided here; one append, one fdatasync. */
  private async append(ops: readonly StateOp[]): Promise<boolean[]> {
    const journal = await this.refresh(true);
    const torn = await this.endTail(journal);
    const size = journal.size;
    const start = torn ? size + 1 : size;
    const results: boolean[] = [];
    /** Lines not written yet: written out every WRITE_CHUNK bytes, so a large batch is never one large buffer. */
    const lines = new JournalLines(WRITE_CHUNK);
    if (torn) lines.addNewline();
    const placed: Array<{ op: StateOp; entry: Place | undefined; parts?: string[] }> = [];
    /** The parts this batch writes (before the first record that refers to each), and their shapes' ids. */
    const newParts = new Map<string, { place: Place; shape?: string }>();
    /** The records this batch writes, as they will stand (undefined: deleted). */
    const written = new Map<string, { value: unknown } | undefined>();
    let offset = start;
    for (const op of ops) {
      const id = recordId(op.kind, op.partition, op.key);
      // Whether the record is there, asked only by a create; a conditional op reads its value (once), a put or a
      // delete needs neither.
      const pending = written.has(id);
      if (
        op.op === "create" &&
        (pending ? written.get(id) !== undefined : this.index.has(op.kind, op.partition, op.key))
      ) {
        results.push(false);
        continue;
      }
      if (isConditional(op)) {
        const current = pending ? written.get(id) : await this.currentOf(journal, op.kind, op.partition, op.key);
        if (current === undefined || !sameValue(current.value, op.expected)) {
          results.push(false);
          continue;
        }
      }
      written.set(id, op.op === "delete" ? undefined : { value: op.value });
      let text: string;
      let refIds: string[] | undefined;
      if (op.op === "delete") {
        text = JSON.stringify({ o: "d", k: op.kind, p: op.partition, y: op.key });
      } else {
        const refs: Array<[string[], Part]> = [];
        const value = withoutParts(op.value, 0, [], refs);
        for (const [, part] of refs) {
          if (this.index.hasPart(part.id) || newParts.has(part.id)) continue;
          const { shape } = part;
          if (shape && !this.index.hasPart(shape.id) && !newParts.has(shape.id)) {
            const length = lines.add(shapeLine(shape));
            newParts.set(shape.id, { place: { offset, length } });
            offset += length;
          }
          const length = lines.add(partLine(part));
          newParts.set(part.id, { place: { offset, length }, ...(shape ? { shape: shape.id } : {}) });
          offset += length;
        }
        if (refs.length > 0) refIds = refs.map(([, part]) => part.id);
        text = JSON.stringify(
          refs.length > 0
            ? { o: "p", k: op.kind, p: op.partition, y: op.key, r: refs.map(([at, part]) => [at, part.id]), v: value }
            : { o: "p", k: op.kind, p: op.partition, y: op.key, v: value },
        );
      }
      const length = lines.add(text);
      placed.push({
        op,
        entry: op.op === "delete" ? undefined : { offset, length },
        ...(refIds ? { parts: refIds } : {}),
      });
      offset += length;
      results.push(true);
      if (lines.pending >= WRITE_CHUNK) {
        await writeAll(journal.handle, lines.take());
        lines.release(false);
      }
    }
    if (placed.length > 0) {
      await writeAll(journal.handle, lines.take());
      lines.release(true);
      await journal.handle.datasync();
      for (const [id, { place, shape }] of newParts) this.index.setPart(id, place, shape);
      for (const { op, entry, parts } of placed) this.index.setRecord(op.kind, op.partition, op.key, entry, parts);
      journal.read = offset;
    }
    // (Nothing written: a cut line stays past `journal.read`, to be ended by the next append, not glued to it.)
    return results;
  }

  /**
   * Opens the newest generation (again, when a compaction replaced the one held) and reads new lines; `locked` when
   * the caller holds the lock.
   */
  private async refresh(locked = false): Promise<Journal> {
    let journal = this.journal;
    if (journal) {
      const info = fstatSync(journal.handle.fd);
      if (info.nlink === 0 || this.superseded(journal.generation, locked)) {
        await journal.handle.close();
        journal = undefined;
        this.journal = undefined;
      } else journal.size = info.size;
    }
    if (!journal) {
      await mkdir(this.dir, { recursive: true });
      const known = await this.generations();
      if (known.length === 0) await this.importLegacy();
      journal = await this.openNewest(locked);
      this.index.clear();
      this.journal = journal;
    }
    await this.readNew(journal);
    return journal;
  }

  /**
   * Under the lock: the bytes past the journal's last complete line, a write cut short by a crash. A line whole but
   * for its newline (its checksum holds) is ended and read, before anything is decided on the journal; one cut short
   * is reported (damaged(), quarantine/) and answered true: the next line must start on a fresh one.
   */
  private async endTail(journal: Journal): Promise<boolean> {
    if (journal.size <= journal.read) return false;
    const tail = Buffer.allocUnsafe(journal.size - journal.read);
    await journal.handle.read(tail, 0, tail.length, journal.read);
    if (typeof parseLine(tail) === "string") {
      this.reportDamage(journal, journal.read, tail, "a write cut short (no end of line)");
      return true;
    }
    await writeAll(journal.handle, [NEWLINE_BYTE]);
    this.indexLine(journal, tail, journal.read);
    journal.size += 1;
    journal.read = journal.size;
    return false;
  }

  /**
   * Opens the newest generation (the first, made, when there is none). Another process may compact between the
   * listing and the open (its rename, then its unlink of the generation listed): the generation listed is opened
   * without O_CREAT, so a vanished one is listed again rather than made anew, empty, beside the newer; and one
   * opened while a later one was renamed into place is put down for that one.
   */
  private async openNewest(locked: boolean): Promise<Journal> {
    for (let attempt = 1; ; attempt++) {
      const generations = await this.generations();
      const generation = generations.at(-1) ?? 1;
      // Older generations beside the newest: compactions killed between their rename and their unlink. Under the
      // lock no compaction runs, so their compactors are gone and the copies (whole journals) are removed.
      if (locked)
        for (const older of generations.slice(0, -1)) await unlink(this.journalPath(older)).catch(() => undefined);
      const flags = constants.O_RDWR | constants.O_APPEND | (generations.length === 0 ? constants.O_CREAT : 0);
      let handle: FileHandle;
      try {
        handle = await open(this.journalPath(generation), flags, 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT" && attempt < OPEN_ATTEMPTS) continue;
        throw error;
      }
      if (laterGeneration(this.journalPath(generation + 1)) && attempt < OPEN_ATTEMPTS) {
        await handle.close();
        continue;
      }
      return { generation, handle, size: fstatSync(handle.fd).size, read: 0 };
    }
  }

  /**
   * Whether a later generation is in place while this one is still linked: a compaction killed between its rename and
   * its unlink (the later one is whole: it is renamed into place after its fsync). Under the lock (no compaction
   * runs, so its compactor is gone) the old one is removed.
   */
  private superseded(generation: number, locked: boolean): boolean {
    if (!laterGeneration(this.journalPath(generation + 1))) return false;
    if (locked) unlinkQuietly(this.journalPath(generation));
    return true;
  }

  /**
   * Indexes the complete lines past `journal.read`, read in chunks into one buffer: a line not ended in a chunk is
   * moved to the buffer's start and the next chunk read after it (the buffer doubles for a line longer than it).
   * No buffer per chunk: fresh memory costs a page fault per 4 KiB here, more than the copy.
   */
  private async readNew(journal: Journal): Promise<void> {
    const { size } = journal;
    let position = journal.read;
    if (position >= size) return;
    let buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
    /** Bytes at the buffer's start: the beginning of a line whose end is not read yet. */
    let held = 0;
    while (position < size) {
      if (held === buffer.length) buffer = Buffer.concat([buffer], 2 * buffer.length);
      const want = Math.min(buffer.length - held, size - position);
      const bytesRead = await readAt(journal.handle, buffer, held, want, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = buffer.subarray(0, held + bytesRead);
      const base = position - data.length;
      let lineStart = 0;
      for (let nl = data.indexOf(NEWLINE, held); nl >= 0; nl = data.indexOf(NEWLINE, lineStart)) {
        if (nl > lineStart) this.indexLine(journal, data.subarray(lineStart, nl), base + lineStart);
        lineStart = nl + 1;
      }
      journal.read = base + lineStart;
      held = data.length - lineStart;
      if (held > 0 && lineStart > 0) buffer.copyWithin(0, lineStart, data.length);
    }
  }

  /**
   * Takes a line into the index: its checksum checked, its head read (journal-head.ts; a line not in the store's own
   * form is parsed whole). Its value is parsed when it is read: a value that is not JSON (a line whose checksum holds
   * was written whole, so only a writer's fault makes one) is reported damaged then.
   */
  private indexLine(journal: Journal, line: Buffer, offset: number): void {
    const body = checkedBody(line);
    const parsed = typeof body === "string" ? body : (readLineHead(body) ?? parseBody(body));
    if (typeof parsed === "string") {
      this.reportDamage(journal, offset, line, parsed);
      return;
    }
    if (parsed.o === "b") {
      this.index.setPart(parsed.y, { offset, length: line.length + 1 }, parsed.c);
      return;
    }
    const parts = parsed.r?.map(([, part]) => part);
    this.index.setRecord(
      parsed.k,
      parsed.p,
      parsed.y,
      parsed.o === "d" ? undefined : { offset, length: line.length + 1 },
      parts,
    );
  }

  /**
   * The names on the record line at `place` of the open journal (the index checks a slot whose hashes match with
   * them): read whole on this thread, as a record's read is (the line was indexed, so its checksum held).
   */
  private namesAt(place: Place): RecordNames {
    const journal = this.journal;
    if (!journal) throw new Error("no journal open");
    const line = Buffer.allocUnsafe(place.length - 1);
    if (readSyncAt(journal.handle.fd, line, 0, line.length, place.offset) < line.length)
      throw new Error(`journal line at ${place.offset} cut short`);
    const body = line.subarray(9);
    const head = readLineHead(body) ?? parseBody(body);
    if (typeof head === "string" || head.o === "b") throw new Error(`journal line at ${place.offset}: not a record`);
    return { kind: head.k, partition: head.p, key: head.y };
  }

  /**
   * A record's value: the lines whose hashes match its names (almost always one), each read whole, the one with its
   * key taken (the same group is the same kind and partition). One read, where asking the index first would check
   * the names on the line, then read it again for the value.
   */
  private async valueOf(journal: Journal, kind: string, partition: string, key: string): Promise<unknown> {
    for (const place of this.index.matching(kind, partition, key)) {
      const read = await this.read(journal, place);
      if (read?.key === key) return read.value;
      if (read === undefined) {
        // A damaged line (its value not JSON; reported by `read`): if it is this record's, the record is absent from
        // now on, as a line whose checksum fails is, so that a create writes it anew rather than finding it there.
        const names = namesOrNone(() => this.namesAt(place));
        if (names?.kind === kind && names.partition === partition && names.key === key) {
          this.index.setRecord(kind, partition, key, undefined);
          return undefined;
        }
      }
    }
    return undefined;
  }

  /** A record as it stands (undefined: not there, or its line damaged, which is reported). */
  private async currentOf(
    journal: Journal,
    kind: string,
    partition: string,
    key: string,
  ): Promise<{ value: unknown } | undefined> {
    const value = await this.valueOf(journal, kind, partition, key);
    return value === undefined ? undefined : { value };
  }

  /** The line at `entry`, read and parsed whole, its parts put back: its key (`y`) and value; undefined if damaged. */
  private async read(journal: Journal, entry: Place): Promise<{ key: string; value: unknown } | undefined> {
    const buffer = Buffer.allocUnsafe(entry.length - 1);
    await readAt(journal.handle, buffer, 0, buffer.length, entry.offset);
    const parsed = parseLine(buffer);
    if (typeof parsed === "string") {
      this.reportDamage(journal, entry.offset, buffer, parsed);
      return undefined;
    }
    const key = parsed.y;
    // (A part's line has no `r`: it is its value, as a record without parts is.)
    const refs = parsed.o === "b" ? undefined : parsed.r;
    if (refs === undefined) return { key, value: parsed.v };
    const value = parsed.v;
    const read = new Map<string, unknown>();
    for (const [at, id] of refs) {
      let part = read.get(id);
      if (read.has(id)) {
        // The same part at another place (one row held twice): a value of its own there, as JSON would read it.
        part = JSON.parse(JSON.stringify(part));
      } else {
        part = await this.readPart(journal, id);
        if (part === undefined) {
          this.reportDamage(journal, entry.offset, buffer, `a part it refers to (${id}) is missing or damaged`);
          return undefined;
        }
        read.set(id, part);
      }
      if (!placePart(value, at, part)) {
        this.reportDamage(journal, entry.offset, buffer, "a part's place is not in the record");
        return undefined;
      }
    }
    return { key, value };
  }

  /**
   * A part, whole (an object written in a shape put together with the shape's keys); undefined when it, or its
   * shape, is missing or damaged.
   */
  private async readPart(journal: Journal, id: string): Promise<unknown> {
    const line = await this.partLine(journal, id);
    if (typeof line === "string") return undefined;
    if (line.c === undefined) return line.v;
    let keys = this.shapes.get(line.c);
    if (!keys) {
      const shape = await this.partLine(journal, line.c);
      if (typeof shape === "string" || !Array.isArray(shape.v) || !shape.v.every((k) => typeof k === "string"))
        return undefined;
      keys = shape.v as string[];
      if (this.shapes.size >= SHAPES_KEPT) this.shapes.clear();
      this.shapes.set(line.c, keys);
    }
    return decodePart(line.v, keys, line.a);
  }

  /** A part's line, parsed; why not, in words, when it is missing or damaged (the damage reported). */
  private async partLine(journal: Journal, id: string): Promise<PartLine | string> {
    const entry = this.index.part(id);
    if (!entry) return "a part it refers to is missing";
    const line = Buffer.allocUnsafe(entry.length - 1);
    await readAt(journal.handle, line, 0, line.length, entry.offset);
    const parsed = parseLine(line);
    if (typeof parsed === "string") this.reportDamage(journal, entry.offset, line, parsed);
    else if (parsed.o !== "b") return "not a part";
    return parsed;
  }

  private reportDamage(journal: Journal, offset: number, line: Buffer, error: string): void {
    const where = `${path.basename(this.journalPath(journal.generation))}@${offset}`;
    if (this.damage.some((d) => d.where === where)) return;
    const head = identify(line);
    this.damage.push({ kind: head.kind ?? "unknown", ...head.names, where, error });
    const quarantine = path.join(this.dir, "quarantine");
    // A copy: `line` may be a view of a read buffer that is reused before the write below runs.
    const kept = Buffer.from(line);
    void mkdir(quarantine, { recursive: true })
      .then(() => writeFile(path.join(quarantine, where.replace("@", "-")), kept, { flag: "wx" }))
      .catch(() => undefined);
  }

  private maybeCompact(): void {
    const journal = this.journal;
    if (this.compacting || this.closing || !journal) return;
    if (journal.read < this.compactAtBytes || this.index.live * 2 > journal.read) return;
    this.compacting = this.serial(() => this.locked(() => this.compact()))
      .catch(() => undefined)
      .finally(() => {
        this.compacting = undefined;
      });
  }

  /** Under the lock: copies the live lines to the next generation, then retires the old one. */
  private async compact(): Promise<void> {
    const journal = await this.refresh(true);
    // A tail another writer's crash left: a whole line is kept (copied with the others), a cut one reported.
    await this.endTail(journal);
    await this.removeLeftovers();
    const next = journal.generation + 1;
    const temp = path.join(this.dir, `.compact-${process.pid}-${randomBytes(4).toString("hex")}`);
    const { lines, moved } = this.index.compacted();
    const offsets: number[] = [];
    let offset = 0;
    try {
      const out = await open(temp, "w", 0o600);
      try {
        for (const { offset: from, length } of lines) {
          const line = Buffer.allocUnsafe(length);
          await journal.handle.read(line, 0, length, from);
          await out.write(line);
          offsets.push(offset);
          offset += length;
        }
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(temp, this.journalPath(next));
    } catch (error) {
      // (A copy that failed, e.g. on a full disk, is not left to fill it: each later batch would try again.)
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDir(this.dir);
    // The new generation is opened before the old one is let go: if it cannot be (EIO, no descriptor left), this
    // store goes on holding the old one, still open, and its next refresh finds the later generation in place and
    // reads it afresh, as after a compaction of another process.
    const handle = await open(this.journalPath(next), constants.O_RDWR | constants.O_APPEND, 0o600);
    moved(offsets);
    this.journal = { generation: next, handle, size: offset, read: offset };
    await journal.handle.close();
    // Every older generation goes, not only the one copied: one left by a compactor killed before its unlink, which a
    // store may still hold (finding no generation right after its own, it would not look further and would read and
    // write it on), is then unlinked, and its holders reopen. (A failed unlink is retried by the next compaction.)
    for (const older of await this.generations())
      if (older < next) await unlink(this.journalPath(older)).catch(() => undefined);
  }

  /**
   * Under the lock: the files of processes that are gone, killed while they compacted (a copy of the live lines),
   * imported or waited for the lock (`.compact-`, `.import-`, `.lock-<pid>-…`).
   */
  private async removeLeftovers(): Promise<void> {
    for (const name of await namesIn(this.dir)) {
      const owner = LEFTOVER.exec(name)?.[1];
      if (owner === undefined || Number(owner) === process.pid || isRunning(Number(owner))) continue;
      await unlink(path.join(this.dir, name)).catch(() => undefined);
    }
  }

  /**
   * The former layout, one file per record (`<kind>/<partition>/<key>.json`, names %-encoded): read once into the
   * first journal (written whole, then renamed into place), when there is no journal yet. The files are left.
   */
  private async importLegacy(): Promise<void> {
    const lines: Buffer[] = [];
    for (const kind of stateKinds) {
      for (const partition of await namesIn(path.join(this.dir, kind))) {
        for (const file of await namesIn(path.join(this.dir, kind, partition))) {
          if (!file.endsWith(".json") || file.startsWith(".")) continue;
          const text = await readFile(path.join(this.dir, kind, partition, file), "utf8");
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            continue; // a damaged legacy record: left where it is, not imported
          }
          const body = Buffer.from(
            JSON.stringify({ o: "p", k: kind, p: decodeName(partition), y: decodeName(file.slice(0, -5)), v: value }),
          );
          lines.push(Buffer.from(`${crc32(body).toString(16).padStart(8, "0")}\t`), body, NEWLINE_BYTE);
        }
      }
    }
    if (lines.length === 0) return;
    const temp = path.join(this.dir, `.import-${process.pid}-${randomBytes(4).toString("hex")}`);
    await writeFile(temp, Buffer.concat(lines), { flush: true });
    await link(temp, this.journalPath(1)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error; // another process imported first
    });
    await unlink(temp);
    await syncDir(this.dir);
  }

  private async generations(): Promise<number[]> {
    const names = await readdir(this.dir);
    return names
      .map((name) => JOURNAL.exec(name)?.[1])
      .filter((g): g is string => g !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  private journalPath(generation: number): string {
    return path.join(this.dir, `journal.${String(generation).padStart(10, "0")}`);
  }

  /** One operation of this process at a time (the index and the file position are shared). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `work` holding the folder's write lock (across processes). The lock appears with its owner in it (written
   * to a file of its own, then linked into place), so it is never found empty while its owner lives.
   */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = path.join(this.dir, "journal.lock");
    const mine = path.join(this.dir, `.lock-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      writeFileSync(mine, lockOwner());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(mine, lockOwner());
    }
    const deadline = Date.now() + this.lockTimeoutMs;
    try {
      for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
        try {
          linkSync(mine, lock);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          const held = await readLock(lock);
          if (held && ownerIsGone(held)) {
            await breakLock(lock, mine, held);
            continue;
          }
          if (Date.now() > deadline) throw new Error(`state store ${this.dir} is locked by another process (${lock})`);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } finally {
      unlinkQuietly(mine);
    }
    try {
      return await work();
    } finally {
      unlinkQuietly(lock);
    }
  }
}

/**
 * A line parsed whole: its head (journal-head.ts owns the fields the index reads) and its value: `v`, or for a part
 * written in a shape (journal-parts.ts) `a`, its values in the shape's order.
 */
type Line = LineHead & { readonly v?: unknown; readonly a?: unknown };
type PartLine = Extract<Line, { readonly o: "b" }>;

/** The line's operation, or why it is damaged. */
function parseLine(line: Buffer): Line | string {
  const body = checkedBody(line);
  return typeof body === "string" ? body : parseBody(body);
}

/** The line's body (its JSON) when its checksum holds, else why not. */
function checkedBody(line: Buffer): Buffer | string {
  if (line.length < 10 || line[8] !== 0x09) return "not a journal line";
  const body = line.subarray(9);
  const expected = checksumOf(line);
  if (expected < 0 || crc32(body) !== expected) return "checksum mismatch (truncated or altered)";
  return body;
}

/** A line's checksum, its first 8 bytes read as hex digits (no string made for them); -1 when they are not. */
function checksumOf(line: Buffer): number {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const c = line[i]!;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** A line's body parsed whole: its operation, or why it is not one. */
function parseBody(body: Buffer): Line | string {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as Line;
    if (parsed.o === "b")
      return typeof parsed.y === "string" && (parsed.c === undefined || typeof parsed.c === "string")
        ? parsed
        : "not a journal operation";
    if ((parsed.o !== "p" && parsed.o !== "d") || typeof parsed.k !== "string") return "not a journal operation";
    if (parsed.r !== undefined && !validRefs(parsed.r)) return "not a journal operation";
    if (typeof parsed.p !== "string" || typeof parsed.y !== "string") return "not a journal operation";
    return parsed;
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
}

/** What a damaged line was about, as far as its beginning tells. */
function identify(line: Buffer): { kind?: StateKind; names: { partition?: string; key?: string } } {
  const text = line.toString("utf8", 0, Math.min(line.length, 2048));
  const field = (name: string) => new RegExp(`"${name}":"((?:[^"\\\\]|\\\\.)*)"`).exec(text)?.[1];
  const kind = field("k") as StateKind | undefined;
  const partition = field("p");
  const key = field("y");
  return { ...(kind ? { kind } : {}), names: { ...(partition ? { partition } : {}), ...(key ? { key } : {}) } };
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR")
      return [];
    throw error;
  }
}

/** Appends the buffers in order, all of them: writev (at most IOV_MAX at a time), then whatever a short write left. */
async function writeAll(handle: FileHandle, buffers: readonly Buffer[]): Promise<void> {
  for (let from = 0; from < buffers.length; from += IOV_MAX) {
    const slice = buffers.slice(from, from + IOV_MAX);
    const total = slice.reduce((n, b) => n + b.length, 0);
    // A few records (a lease, a checkpoint) written on this thread, as a small read is (readAt).
    const bytesWritten =
      total <= SYNC_IO_BYTES ? writevSync(handle.fd, slice) : (await handle.writev(slice)).bytesWritten;
    if (bytesWritten >= total) continue;
    const rest = Buffer.concat(slice).subarray(bytesWritten);
    for (let written = 0; written < rest.length; ) {
      written += (await handle.write(rest, written, rest.length - written)).bytesWritten;
    }
  }
}

/**
 * Reads `length` bytes at `position` into `buffer` at `offset`; the bytes read (fewer only at the file's end). A read
 * of up to SYNC_IO_BYTES is made on this thread (a record, a part, the lines another process appended lately): from
 * the page cache it takes microseconds, less than the hop through libuv's thread pool that an asynchronous read costs;
 * a larger one (a journal opened, or a long tail) is read asynchronously, the event loop free meanwhile.
 */
async function readAt(handle: FileHandle, buffer: Buffer, offset: number, length: number, position: number) {
  if (length <= SYNC_IO_BYTES) return readSyncAt(handle.fd, buffer, offset, length, position);
  return (await handle.read(buffer, offset, length, position)).bytesRead;
}

/** `readAt` on this thread, whatever the length: reads until `length` bytes or the file's end; the bytes read. */
function readSyncAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
  let read = 0;
  while (read < length) {
    const n = readSync(fd, buffer, offset + read, length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return read;
}

const SYNC_IO_BYTES = 64 * 1024;

/** Whether the next generation's file is there; an error looking (not its absence) reads as no, as it always did. */
function laterGeneration(file: string): boolean {
  try {
    return statSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** The names on a record's line, or none when even its head cannot be read now (the line changed under us). */
function namesOrNone(read: () => RecordNames): RecordNames | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Removes a file if it is there (a lock released, a stale generation); any error is left to the next look. */
function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already, or not ours to remove: nothing to do
  }
}

/** Buffers per writev (POSIX guarantees at least 16, Linux takes 1024). */
const IOV_MAX = 1024;

/** This process's lock text: its pid, its start time (temp-folder.ts's startOf) and a token of its own; read once. */
function lockOwner(): string {
  ownLock ??= `${process.pid} ${startOf(process.pid) ?? "x"} ${LOCK_TOKEN}`;
  return ownLock;
}

let ownLock: string | undefined;

/** Told apart from a process before this one with the same pid (a restarted container's). */
const LOCK_TOKEN = randomBytes(8).toString("hex");
/** A lock without an owner (an older version's, created then written) is left alone this long, then broken. */
const OWNERLESS_LOCK_MS = 2000;

/** A lock as read: its owner's text, its inode and age (from one open file, so the three belong together). */
interface HeldLock {
  readonly text: string;
  readonly ino: number;
  readonly mtimeMs: number;
}

async function readLock(lock: string): Promise<HeldLock | undefined> {
  const handle = await open(lock, "r").catch(() => undefined);
  if (!handle) return undefined; // released meanwhile: tried again
  try {
    const info = await handle.stat();
    return { text: await handle.readFile("utf8"), ino: info.ino, mtimeMs: info.mtimeMs };
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Whether the lock's owner is gone: a process with another pid that does not run, or runs but started at another
 * time (the pid reused); this pid with another token (a process before this one: this one's stores share its
 * token); no owner at all in it, for OWNERLESS_LOCK_MS (a writer killed between creating it and writing to it).
 */
function ownerIsGone(held: HeldLock): boolean {
  const [pid, start, token] = held.text.trim().split(" ");
  const owner = Number(pid);
  if (!Number.isInteger(owner) || owner <= 0) return Date.now() - held.mtimeMs > OWNERLESS_LOCK_MS;
  if (owner === process.pid) return token !== LOCK_TOKEN;
  if (!isRunning(owner)) return true;
  if (start === undefined || start === "x") return false;
  const now = startOf(owner);
  return now !== undefined && now !== start;
}

/**
 * Removes a lock found stale, if it is still that one (same inode and text), one breaker at a time (`<lock>.break`,
 * taken as the lock is): two waiters that found the same stale lock would otherwise both remove it, the second
 * removing the first one's fresh lock, and both write at once. A breaker killed in between leaves `.break`, broken
 * in turn when its owner is gone.
 */
async function breakLock(lock: string, mine: string, stale: HeldLock): Promise<void> {
  const breaker = `${lock}.break`;
  try {
    await link(mine, breaker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const other = await readLock(breaker);
    if (other && ownerIsGone(other)) await unlinkIfSame(breaker, other);
    return;
  }
  try {
    await unlinkIfSame(lock, stale);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

async function unlinkIfSame(file: string, seen: HeldLock): Promise<void> {
  const now = await readLock(file);
  if (now && now.ino === seen.ino && now.text === seen.text) await unlink(file).catch(() => undefined);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
