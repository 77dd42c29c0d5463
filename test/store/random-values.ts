/**
 * A seeded generator of awkward values for the journal's randomized tests (journal-random-*.test.ts): rows of 16 keys
 * and more sharing a few key sets (the journal's shapes), odd keys (`__proto__`, numeric strings JS reorders, lone
 * surrogates), long strings met twice, frozen arrays, nested values, and rows changed between two writes.
 */
import { seededRandom } from "../support/seeded-random.js";

const ODD_KEYS = [
  "__proto__",
  "constructor",
  "toString",
  "0",
  "1",
  "10",
  "2",
  "-1",
  "01",
  "1.5",
  "",
  " ",
  "é",
  "😀",
  "\ud800",
  'a"b',
  "a\\b",
  "\n",
  "hasOwnProperty",
  "valueOf",
  "4294967295",
  "4294967294",
  "9007199254740993",
];

export function makeGen(seed: number) {
  const r = seededRandom(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const longStrings = Array.from({ length: 6 }, (_, i) =>
    `${"q".repeat(500 + i)}${pick(["", "é", "😀", "\ud800x", '"\\'])}`.repeat(1 + (i % 2)),
  );
  const keySets: string[][] = Array.from({ length: 5 }, (_, s) => {
    const n = 16 + int(10);
    const ks = new Set<string>();
    while (ks.size < n) ks.add(r() < 0.3 ? pick(ODD_KEYS) : `Col${s}_${int(40)}`);
    return [...ks];
  });
  const frozen = Array.from({ length: 3 }, (_, i) =>
    Object.freeze(
      Array.from({ length: 20 + i }, (_, j) =>
        j % 3 === 0 ? `label-${j}-é` : j % 3 === 1 ? j : j % 2 === 0 ? null : true,
      ),
    ),
  );
  const str = (): string => {
    const c = int(10);
    if (c === 0) return "";
    if (c === 1) return pick(longStrings);
    if (c === 2) return pick(ODD_KEYS);
    if (c === 3) return "x".repeat(int(2000));
    return `s${int(100)}${pick(["", "é", "€", "😀", "\ud83d", "\udc00", "\u2028", "\u0000"])}`;
  };
  const prim = (): unknown => {
    const c = int(12);
    if (c === 0) return null;
    if (c === 1) return undefined;
    if (c === 2) return true;
    if (c === 3) return -0;
    if (c === 4) return int(1e6) / 7;
    if (c === 5) return Number.NaN;
    return str();
  };
  const rows: Record<string, unknown>[] = [];
  const row = (depth: number): Record<string, unknown> => {
    if (rows.length > 0 && r() < 0.3) return pick(rows); // the same row object again
    const keys = pick(keySets);
    const o: Record<string, unknown> = r() < 0.1 ? Object.create(null) : {};
    for (const k of keys) {
      if (k === "__proto__") {
        Object.defineProperty(o, k, { value: prim(), enumerable: true, writable: true, configurable: true });
        continue;
      }
      o[k] = r() < 0.1 && depth < 4 ? value(depth + 1) : prim();
    }
    rows.push(o);
    return o;
  };
  const value = (depth: number): unknown => {
    const c = int(10);
    if (depth > 4 || c < 3) return prim();
    if (c === 3) return Array.from({ length: int(4) }, () => value(depth + 1));
    if (c === 4) return pick(frozen);
    if (c === 5 || c === 6) return row(depth);
    const o: Record<string, unknown> = {};
    const n = int(6);
    for (let i = 0; i < n; i++) {
      const k = r() < 0.4 ? pick(ODD_KEYS) : `k${int(8)}`;
      if (k === "__proto__")
        Object.defineProperty(o, k, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
      else o[k] = value(depth + 1);
    }
    return o;
  };
  const mutate = () => {
    if (rows.length === 0) return;
    const o = pick(rows);
    const keys = Object.keys(o);
    const c = int(5);
    const k = pick(keys);
    if (c === 0) delete o[k];
    else if (c === 1) o[`new${int(5)}`] = prim();
    else if (c === 2 && k !== "__proto__") {
      // same keys, different order
      const v = o[k];
      delete o[k];
      o[k] = v;
    } else if (k !== "__proto__") o[k] = prim();
  };
  return { r, int, pick, value, row, mutate, str };
}
