/** Aggregation functions of `summarize`: each compiles to an accumulator with one or more output values. */
import type { Fn } from "./context.js";
import type { Row } from "./relation.js";
import { compareValues, type Value, valueKey } from "./values.js";

interface Accumulator {
  add(row: Row): void;
  /** The output values (one per output column of this aggregate). */
  result(): Value[];
}

export type AggregateFactory = () => Accumulator;

/** Compiled arguments of one aggregate call; `returns` are the extra outputs of arg_max/arg_min. */
export interface AggregateArgs {
  readonly args: readonly Fn[];
  readonly returns: readonly Fn[];
}

const isNull = (v: Value) => v === null || v === undefined;

function limitOf(args: readonly Fn[], at: number): number {
  const f = args[at];
  const v = f ? f([]) : null;
  return typeof v === "number" ? v : 1_048_576;
}

const FACTORIES: Readonly<Record<string, (a: AggregateArgs) => AggregateFactory>> = {
  count: () => () => {
    let n = 0;
    return { add: () => void n++, result: () => [n] };
  },
  countif:
    ({ args: [p] }) =>
    () => {
      let n = 0;
      return {
        add: (row) => {
          if (p?.(row) === true) n++;
        },
        result: () => [n],
      };
    },
  dcount:
    ({ args: [f] }) =>
    () => {
      const seen = new Set<string>();
      return {
        add: (row) => {
          const v = f?.(row) ?? null;
          if (!isNull(v)) seen.add(valueKey(v));
        },
        result: () => [seen.size],
      };
    },
  dcountif:
    ({ args: [f, p] }) =>
    () => {
      const seen = new Set<string>();
      return {
        add: (row) => {
          if (p?.(row) !== true) return;
          const v = f?.(row) ?? null;
          if (!isNull(v)) seen.add(valueKey(v));
        },
        result: () => [seen.size],
      };
    },
  // "Default values of aggregations" (summarize operator): sum() and sumif() give 0 over no values, not null.
  sum:
    ({ args: [f] }) =>
    () => {
      let s = 0;
      return {
        add: (row) => {
          const v = f?.(row);
          if (typeof v === "number") s += v;
        },
        result: () => [s],
      };
    },
  sumif:
    ({ args: [f, p] }) =>
    () => {
      let s = 0;
      return {
        add: (row) => {
          if (p?.(row) !== true) return;
          const v = f?.(row);
          if (typeof v === "number") s += v;
        },
        result: () => [s],
      };
    },
  avg:
    ({ args: [f] }) =>
    () => {
      let s = 0;
      let n = 0;
      return {
        add: (row) => {
          const v = f?.(row);
          if (typeof v === "number") {
            s += v;
            n++;
          }
        },
        result: () => [n ? s / n : null],
      };
    },
  min: ({ args: [f] }) => extreme(f, -1),
  max: ({ args: [f] }) => extreme(f, 1),
  minif: ({ args: [f, p] }) => extreme(f, -1, p),
  maxif: ({ args: [f, p] }) => extreme(f, 1, p),
  make_set: ({ args }) => collect(args[0], true, limitOf(args, 1)),
  make_list: ({ args }) => collect(args[0], false, limitOf(args, 1)),
  make_set_if: ({ args }) => collect(args[0], true, limitOf(args, 2), args[1]),
  make_list_if: ({ args }) => collect(args[0], false, limitOf(args, 2), args[1]),
  take_any:
    ({ args }) =>
    () => {
      let got: Value[] | undefined;
      return {
        add: (row) => {
          if (!got) got = args.map((f) => f(row));
        },
        result: () => got ?? args.map(() => null),
      };
    },
  arg_max: ({ args: [f], returns }) => argExtreme(f, returns, 1),
  arg_min: ({ args: [f], returns }) => argExtreme(f, returns, -1),
};
const ALIASES: Readonly<Record<string, string>> = {
  any: "take_any",
  makeset: "make_set",
  makelist: "make_list",
  count_distinct: "dcount",
};

function extreme(f: Fn | undefined, sign: number, p?: Fn): AggregateFactory {
  return () => {
    let best: Value = null;
    return {
      add: (row) => {
        if (p && p(row) !== true) return;
        const v = f?.(row) ?? null;
        if (isNull(v) || v === "") return;
        if (best === null || compareValues(v, best) * sign > 0) best = v;
      },
      result: () => [best],
    };
  };
}

function collect(f: Fn | undefined, unique: boolean, max: number, p?: Fn): AggregateFactory {
  return () => {
    const out: Value[] = [];
    const seen = new Set<string>();
    return {
      add: (row) => {
        if (out.length >= max) return;
        if (p && p(row) !== true) return;
        const v = f?.(row) ?? null;
        if (isNull(v)) return;
        if (unique) {
          const k = valueKey(v);
          if (seen.has(k)) return;
          seen.add(k);
        }
        out.push(v);
      },
      result: () => [out],
    };
  };
}

function argExtreme(f: Fn | undefined, returns: readonly Fn[], sign: number): AggregateFactory {
  return () => {
    let best: Value = null;
    let bestRow: Row | undefined;
    return {
      add: (row) => {
        const v = f?.(row) ?? null;
        if (isNull(v)) return;
        if (best === null || compareValues(v, best) * sign > 0) {
          best = v;
          bestRow = row;
        }
      },
      result: () => {
        const row = bestRow;
        return [best, ...returns.map((r) => (row ? r(row) : null))];
      },
    };
  };
}

/** The accumulator factory of an aggregate function, or undefined when not supported. */
export function aggregateFactory(name: string, args: AggregateArgs): AggregateFactory | undefined {
  const key = ALIASES[name] ?? name;
  const make = Object.hasOwn(FACTORIES, key) ? FACTORIES[key] : undefined;
  return make?.(args);
}

export function isArgExtreme(name: string): boolean {
  return name === "arg_max" || name === "arg_min";
}
