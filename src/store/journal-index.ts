/**
 * The local journal's index (local-state-store.ts): where each record's latest line is, where each part's line is,
 * how many live records refer to each part, and how many bytes of the journal are live (what compaction keeps).
 *
 * Memory holds no record's name. A record is found by two 32-bit hashes of its key within its partition (its kind
 * and partition are one small number, a group), a chain per first hash; a slot whose hashes match is checked against
 * the names on its line (`namesAt`, one read from the page cache), so two names that hash alike are still two
 * records, and a name made to collide costs a read, never a wrong answer. The slots' facts are typed columns: a
 * line's offset and length, a record's group and parts (part slots, not their 43-character ids again), a part's shape
 * and count of the records that refer to it. Parts are found by their ids (content hashes, fewer than records).
 * Before, a Map from each record's full name to an object with an array of part ids came to ~450 bytes a record
 * (21,639 records and 6,702 parts of a 10,002-row hunt: 12.2 MiB); a process holds the index whole, and a hunt's
 * index grows with its rows while it runs.
 */

/** Where a line is in the journal. */
export interface Place {
  readonly offset: number;
  readonly length: number;
}

/** A record's names, as its line gives them. */
export interface RecordNames {
  readonly kind: string;
  readonly partition: string;
  readonly key: string;
}

/** Parts a record refers to, kept in the record's own columns; more are kept apart. */
const INLINE_REFS = 3;
const FIRST_SLOTS = 1024;

export class JournalIndex {
  /** Bytes of the live lines: the records', and those of the parts a record refers to. */
  live = 0;
  private count = 0;
  /** The first slot of each chain, by the first hash of its records' names. */
  private readonly chains = new Map<number, number>();
  /**
   * Kinds with partitions, each a group number: its kind and partition (undefined: free), their text in `groupOf`,
   * and how many records it holds. A group is freed with its last record (a sample's pending entries, a lease come
   * and gone), so a long-lived process does not keep every partition it ever saw; its number is given again.
   */
  private readonly groupOf = new Map<string, number>();
  private readonly groups: Array<{ readonly kind: string; readonly partition: string } | undefined> = [];
  private readonly groupSizes: number[] = [];
  private readonly freeGroups: number[] = [];
  private lastGroup: { readonly kind: string; readonly partition: string; readonly group: number } | undefined;
  private recordSlots = new RecordColumns(FIRST_SLOTS);
  private readonly freeRecords: number[] = [];
  private recordsUsed = 0;
  /** A record's parts past the INLINE_REFS first, by its slot. */
  private readonly moreRefs = new Map<number, number[]>();
  private readonly parts = new Map<string, number>();
  private partSlots = new PartColumns(FIRST_SLOTS);
  private readonly freeParts: number[] = [];
  private partsUsed = 0;

  /** The last names hashed (`hash`): their chain, and their check. */
  private readonly hashes = new Int32Array(2);

  /**
   * `namesAt`: the names on the record line at a place (read from the journal the index is of). `hash`: the names'
   * hashes (tests give one that makes records share chains and checks).
   */
  constructor(
    private readonly namesAt: (place: Place) => RecordNames,
    private readonly hash: NameHash = fnvHashes,
  ) {}

  /** How many records there are. */
  get size(): number {
    return this.count;
  }

  /** How many kinds with partitions hold records (their names are what the index keeps). */
  get partitions(): number {
    return this.groupOf.size;
  }

  has(kind: string, partition: string, key: string): boolean {
    const group = this.groupNamed(kind, partition);
    return group !== undefined && this.find(group, key) >= 0;
  }

  record(kind: string, partition: string, key: string): Place | undefined {
    const group = this.groupNamed(kind, partition);
    const slot = group === undefined ? -1 : this.find(group, key);
    return slot < 0 ? undefined : this.placeOf(slot);
  }

  /**
   * The places of the records whose group and hashes are those of these names, not checked against the names on
   * their lines: for a caller that reads the line anyway (its value) and compares its key itself.
   */
  matching(kind: string, partition: string, key: string): Place[] {
    const group = this.groupNamed(kind, partition);
    return group === undefined ? [] : this.candidates(group, key).map((slot) => this.placeOf(slot));
  }

  /** The records of a kind (of one partition), with their partitions, in no order. */
  recordsOf(kind: string, partition?: string): Array<{ readonly partition: string; readonly place: Place }> {
    const wanted = new Set<number>();
    if (partition !== undefined) {
      const group = this.groupOf.get(groupName(kind, partition));
      if (group !== undefined) wanted.add(group);
    } else {
      this.groups.forEach((g, group) => {
        if (g?.kind === kind) wanted.add(group);
      });
    }
    const found: Array<{ partition: string; place: Place }> = [];
    if (wanted.size === 0) return found;
    for (const slot of this.chains.values()) {
      for (let s = slot; s >= 0; s = this.recordSlots.next[s]! - 1) {
        const group = this.recordSlots.group[s]!;
        if (wanted.has(group)) found.push({ partition: this.groups[group]!.partition, place: this.placeOf(s) });
      }
    }
    return found;
  }

  /** A record's latest line (undefined: deleted), and the parts it refers to; the live bytes follow. */
  setRecord(kind: string, partition: string, key: string, place: Place | undefined, partIds?: readonly string[]): void {
    let group = this.groupNamed(kind, partition);
    // (`find` leaves the key's hashes in `this.hashes`.)
    let slot = group === undefined ? -1 : this.find(group, key);
    if (slot >= 0) {
      this.live -= this.recordSlots.length[slot]!;
      this.forEachRef(slot, (part) => this.unrefer(part));
      this.moreRefs.delete(slot);
      if (!place) {
        this.unchain(slot);
        this.freeRecords.push(slot);
        this.count--;
        if (--this.groupSizes[group!]! === 0) this.freeGroup(group!, kind, partition);
        return;
      }
    } else {
      if (!place) return;
      slot = this.newRecordSlot();
      if (group === undefined) {
        group = this.freeGroups.pop() ?? this.groups.length;
        this.groups[group] = { kind, partition };
        this.groupSizes[group] = 0;
        this.groupOf.set(groupName(kind, partition), group);
        this.hash(group, key, this.hashes);
      }
      this.groupSizes[group]!++;
      const columns = this.recordSlots;
      columns.group[slot] = group;
      const [chain, check] = this.hashes;
      columns.chain[slot] = chain!;
      columns.check[slot] = check!;
      columns.next[slot] = (this.chains.get(chain!) ?? -1) + 1;
      this.chains.set(chain!, slot);
      this.count++;
    }
    const columns = this.recordSlots;
    columns.offset[slot] = place.offset;
    columns.length[slot] = place.length;
    this.live += place.length;
    const count = partIds?.length ?? 0;
    for (let i = 0; i < INLINE_REFS; i++) columns.refs[i]![slot] = i < count ? this.refer(partIds![i]!) + 1 : 0;
    if (count > INLINE_REFS)
      this.moreRefs.set(
        slot,
        partIds!.slice(INLINE_REFS).map((part) => this.refer(part)),
      );
  }

  part(id: string): Place | undefined {
    const slot = this.parts.get(id);
    if (slot === undefined || this.partSlots.offset[slot]! < 0) return undefined;
    return { offset: this.partSlots.offset[slot]!, length: this.partSlots.length[slot]! };
  }

  hasPart(id: string): boolean {
    return this.part(id) !== undefined;
  }

  /** A part's line (its shape's id when it is written in one); its bytes count as live while a record refers to it. */
  setPart(id: string, place: Place, shapeId?: string): void {
    // The shape's slot first: making one may grow the columns, which are read after it.
    const shape = shapeId === undefined ? 0 : this.partSlot(shapeId) + 1;
    const slot = this.partSlot(id);
    const columns = this.partSlots;
    const referred = columns.refs[slot]! > 0;
    if (referred && columns.offset[slot]! >= 0) this.live -= columns.length[slot]!;
    columns.offset[slot] = place.offset;
    columns.length[slot] = place.length;
    columns.shape[slot] = shape;
    if (referred) this.live += place.length;
  }

  /**
   * The lines compaction keeps, in the order it writes them: every record, then the parts they refer to (and those
   * parts' shapes). `moved` gives each its offset in the new generation; after it the index is the new one's, and
   * parts no record refers to are gone from it.
   */
  compacted(): { lines: Place[]; moved: (offsets: readonly number[]) => void } {
    const lines: Place[] = [];
    const recordOrder: number[] = [];
    for (const first of this.chains.values()) {
      for (let slot = first; slot >= 0; slot = this.recordSlots.next[slot]! - 1) {
        recordOrder.push(slot);
        lines.push(this.placeOf(slot));
      }
    }
    const partOrder: number[] = [];
    const kept = new Set<number>();
    const keep = (part: number) => {
      if (kept.has(part) || this.partSlots.offset[part]! < 0) return;
      kept.add(part);
      partOrder.push(part);
      lines.push({ offset: this.partSlots.offset[part]!, length: this.partSlots.length[part]! });
    };
    for (const slot of recordOrder) this.forEachRef(slot, keep);
    // (A part in a shape refers to the shape's part: added as the list is walked, so copied too. A shape not
    // written, a damaged line's, keeps its slot: the part's shape column must not come to name another part.)
    const shapes = new Set<number>();
    for (let i = 0; i < partOrder.length; i++) {
      const shape = this.partSlots.shape[partOrder[i]!]!;
      if (shape === 0) continue;
      shapes.add(shape - 1);
      keep(shape - 1);
    }
    return {
      lines,
      moved: (offsets) => {
        recordOrder.forEach((slot, i) => {
          this.recordSlots.offset[slot] = offsets[i]!;
        });
        partOrder.forEach((slot, i) => {
          this.partSlots.offset[slot] = offsets[recordOrder.length + i]!;
        });
        for (const [id, slot] of this.parts) {
          if (kept.has(slot) || shapes.has(slot) || this.partSlots.refs[slot]! > 0) continue;
          this.parts.delete(id);
          this.partSlots.offset[slot] = -1;
          this.freeParts.push(slot);
        }
        // Live as ever: the records, and the parts records refer to (a shape kept for its parts is not counted).
        let live = 0;
        for (const slot of recordOrder) live += this.recordSlots.length[slot]!;
        for (const slot of partOrder) if (this.partSlots.refs[slot]! > 0) live += this.partSlots.length[slot]!;
        this.live = live;
      },
    };
  }

  clear(): void {
    this.live = 0;
    this.count = 0;
    this.chains.clear();
    this.groupOf.clear();
    this.groups.length = 0;
    this.groupSizes.length = 0;
    this.freeGroups.length = 0;
    this.lastGroup = undefined;
    this.recordSlots = new RecordColumns(FIRST_SLOTS);
    this.freeRecords.length = 0;
    this.recordsUsed = 0;
    this.moreRefs.clear();
    this.parts.clear();
    this.partSlots = new PartColumns(FIRST_SLOTS);
    this.freeParts.length = 0;
    this.partsUsed = 0;
  }

  /** The record's slot, or -1: the slots whose hashes match, each checked against the names on its line. */
  private find(group: number, key: string): number {
    // (The same group is the same kind and partition: the key on the line is what is left to compare.)
    for (const slot of this.candidates(group, key)) if (this.namesAt(this.placeOf(slot)).key === key) return slot;
    return -1;
  }

  /** The slots of the key's chain whose group and second hash are its own (leaves its hashes in `this.hashes`). */
  private candidates(group: number, key: string): number[] {
    this.hash(group, key, this.hashes);
    const [chain, check] = this.hashes;
    const columns = this.recordSlots;
    const slots: number[] = [];
    for (let slot = this.chains.get(chain!) ?? -1; slot >= 0; slot = columns.next[slot]! - 1)
      if (columns.check[slot] === check && columns.group[slot] === group) slots.push(slot);
    return slots;
  }

  /** Takes a record's slot out of its chain. */
  private unchain(slot: number): void {
    const columns = this.recordSlots;
    const chain = columns.chain[slot]!;
    const first = this.chains.get(chain)!;
    const after = columns.next[slot]! - 1;
    if (first === slot) {
      if (after >= 0) this.chains.set(chain, after);
      else this.chains.delete(chain);
      return;
    }
    for (let s = first; s >= 0; s = columns.next[s]! - 1) {
      if (columns.next[s]! - 1 === slot) {
        columns.next[s] = after + 1;
        return;
      }
    }
  }

  /** The group of a kind and partition, if it has one (the last one asked for is kept: a batch's run of one). */
  private groupNamed(kind: string, partition: string): number | undefined {
    const last = this.lastGroup;
    if (last !== undefined && last.kind === kind && last.partition === partition) return last.group;
    const group = this.groupOf.get(groupName(kind, partition));
    if (group !== undefined) this.lastGroup = { kind, partition, group };
    return group;
  }

  private freeGroup(group: number, kind: string, partition: string): void {
    this.groupOf.delete(groupName(kind, partition));
    this.groups[group] = undefined;
    this.freeGroups.push(group);
    if (this.lastGroup?.group === group) this.lastGroup = undefined;
  }

  private placeOf(slot: number): Place {
    return { offset: this.recordSlots.offset[slot]!, length: this.recordSlots.length[slot]! };
  }

  private forEachRef(slot: number, each: (part: number) => void): void {
    for (let i = 0; i < INLINE_REFS; i++) {
      const ref = this.recordSlots.refs[i]![slot]!;
      if (ref === 0) return;
      each(ref - 1);
    }
    for (const part of this.moreRefs.get(slot) ?? []) each(part);
  }

  /** One more record refers to the part: its bytes are live from the first. */
  private refer(id: string): number {
    const slot = this.partSlot(id);
    const columns = this.partSlots;
    const refs = columns.refs[slot]!;
    columns.refs[slot] = refs + 1;
    if (refs === 0 && columns.offset[slot]! >= 0) this.live += columns.length[slot]!;
    return slot;
  }

  private unrefer(slot: number): void {
    const columns = this.partSlots;
    const refs = columns.refs[slot]!;
    if (refs === 0) return;
    columns.refs[slot] = refs - 1;
    if (refs === 1 && columns.offset[slot]! >= 0) this.live -= columns.length[slot]!;
  }

  /** The part's slot, made (not written yet: offset -1) for an id met first in a record's references. */
  private partSlot(id: string): number {
    let slot = this.parts.get(id);
    if (slot !== undefined) return slot;
    slot = this.freeParts.pop() ?? this.partsUsed++;
    if (slot >= this.partSlots.offset.length) this.partSlots = this.partSlots.grown();
    this.parts.set(id, slot);
    const columns = this.partSlots;
    columns.offset[slot] = -1;
    columns.length[slot] = 0;
    columns.shape[slot] = 0;
    columns.refs[slot] = 0;
    return slot;
  }

  private newRecordSlot(): number {
    const free = this.freeRecords.pop();
    if (free !== undefined) return free;
    const slot = this.recordsUsed++;
    if (slot >= this.recordSlots.offset.length) this.recordSlots = this.recordSlots.grown();
    return slot;
  }
}

/**
 * Per record slot: its line's offset and length; its group; its names' two hashes (the first names its chain) and
 * the next slot of the chain (slot + 1; 0: the last); its first parts (part slot + 1; 0: none).
 */
class RecordColumns {
  readonly offset: Float64Array;
  readonly length: Uint32Array;
  readonly group: Uint32Array;
  readonly chain: Int32Array;
  readonly check: Int32Array;
  readonly next: Int32Array;
  readonly refs: Int32Array[];
  constructor(readonly capacity: number) {
    this.offset = new Float64Array(capacity);
    this.length = new Uint32Array(capacity);
    this.group = new Uint32Array(capacity);
    this.chain = new Int32Array(capacity);
    this.check = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.refs = Array.from({ length: INLINE_REFS }, () => new Int32Array(capacity));
  }
  grown(): RecordColumns {
    const next = new RecordColumns(2 * this.capacity);
    next.offset.set(this.offset);
    next.length.set(this.length);
    next.group.set(this.group);
    next.chain.set(this.chain);
    next.check.set(this.check);
    next.next.set(this.next);
    this.refs.forEach((refs, i) => {
      next.refs[i]!.set(refs);
    });
    return next;
  }
}

/** Per part slot: its line's offset (-1: not written) and length, its shape (part slot + 1; 0: none), its referrers. */
class PartColumns {
  readonly offset: Float64Array;
  readonly length: Uint32Array;
  readonly shape: Int32Array;
  readonly refs: Uint32Array;
  constructor(readonly capacity: number) {
    this.offset = new Float64Array(capacity);
    this.length = new Uint32Array(capacity);
    this.shape = new Int32Array(capacity);
    this.refs = new Uint32Array(capacity);
  }
  grown(): PartColumns {
    const next = new PartColumns(2 * this.capacity);
    next.offset.set(this.offset);
    next.length.set(this.length);
    next.shape.set(this.shape);
    next.refs.set(this.refs);
    return next;
  }
}

/** A kind and partition as one text: the kind's length first, so no two pairs give one text, whatever they hold. */
function groupName(kind: string, partition: string): string {
  return `${kind.length}:${kind}${partition}`;
}

/**
 * Hashes a record's names (its group and key) into `out`: the first, a small integer (30 bits), names its chain; the
 * second tells most records of one chain apart without reading their lines.
 */
export type NameHash = (group: number, key: string, out: Int32Array) => void;

/** Two 32-bit FNV-1a hashes of the key's UTF-16 units, each seeded with the group (the first kept to 30 bits). */
const fnvHashes: NameHash = (group, key, out) => {
  let a = (0x811c9dc5 ^ group) >>> 0;
  let b = (0x01000193 ^ Math.imul(group, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  out[0] = (a ^ (a >>> 15)) & 0x3fffffff;
  out[1] = b ^ (b >>> 13);
};
