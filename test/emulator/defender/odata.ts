/**
 * The small part of OData `$filter` the List APIs need: `<property> eq '<text>'` (or a number), joined by `and` /
 * `or` (`and` binds tighter), on the properties the collection's page says `$filter` supports (limits.ts). Anything
 * else is an ODataError, as common-errors lists it: "Invalid OData URI query (the specific error is specified)".
 */
import type { ODataCollection } from "./limits.js";

export interface Comparison {
  readonly property: string;
  readonly value: string | number;
}

/** Disjunctive normal form: any group whose comparisons all hold. */
export type Filter = readonly (readonly Comparison[])[];

export function parseFilter(text: string, collection: ODataCollection): Filter | string {
  const tokens = text.match(/'(?:[^']|'')*'|[^\s']+/g) ?? [];
  const groups: Comparison[][] = [[]];
  let i = 0;
  while (i < tokens.length) {
    const [property, op, literal] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (!property || !op || literal === undefined) return `The query specified in the URI is not valid: '${text}'.`;
    const known = collection.filterable.find((p) => p.toLowerCase() === property.toLowerCase());
    if (!known) return `Could not find a property named '${property}' that $filter supports on ${collection.name}.`;
    if (op.toLowerCase() !== "eq") return `The emulator supports only 'eq' in $filter, not '${op}'.`;
    let value: string | number;
    if (/^'.*'$/s.test(literal)) value = literal.slice(1, -1).replace(/''/g, "'");
    else if (/^-?\d+(\.\d+)?$/.test(literal)) value = Number(literal);
    else return `The literal '${literal}' in $filter is not valid.`;
    groups[groups.length - 1]?.push({ property: known, value });
    i += 3;
    const joiner = tokens[i]?.toLowerCase();
    if (joiner === undefined) break;
    if (joiner === "or") groups.push([]);
    else if (joiner !== "and") return `Expected 'and' or 'or' in $filter, found '${tokens[i]}'.`;
    i += 1;
    if (i >= tokens.length) return `The query specified in the URI is not valid: '${text}'.`;
  }
  return groups;
}

/** String comparisons are case-insensitive (host names are); a collection (machineTags) matches if one item does. */
export function matchesFilter(entity: Readonly<Record<string, unknown>>, filter: Filter): boolean {
  const same = (a: unknown, b: string | number) =>
    typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : a === b;
  return filter.some((group) =>
    group.every((c) => {
      const actual = entity[c.property];
      return Array.isArray(actual) ? actual.some((item) => same(item, c.value)) : same(actual, c.value);
    }),
  );
}
