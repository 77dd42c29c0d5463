/**
 * The Logs API's `timespan`: every table is limited to the rows whose `TimeGenerated` lies in the interval (both
 * ends included), as the service applies it before the query runs. Tables without that column are left whole;
 * a row whose TimeGenerated is missing or unreadable is outside every interval.
 */
import type { Row, WorkspaceTable } from "./state.js";

export function timeOf(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string" || typeof value === "number") {
    const t = new Date(value).getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export function limitToInterval(
  table: WorkspaceTable,
  interval: { readonly start: Date; readonly end: Date } | undefined,
): WorkspaceTable {
  if (!interval || !table.columns.some((c) => c.name === "TimeGenerated")) return table;
  const start = interval.start.getTime();
  const end = interval.end.getTime();
  const rows: Row[] = table.rows.filter((row) => {
    const t = timeOf(row.TimeGenerated);
    return t !== undefined && t >= start && t <= end;
  });
  return { ...table, rows };
}
