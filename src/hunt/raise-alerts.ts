/** Raises many alerts: in one call when the writer takes a batch, else a few at a time (bounded concurrency). */
import type { AlertRequest, AlertWriter, RaisedAlert } from "../sentinel/incidents.js";

/** An alert writer that can raise many alerts in one call (the local writer: one state write). */
export interface BatchAlertWriter extends AlertWriter {
  raiseAll(alerts: readonly AlertRequest[]): Promise<RaisedAlert[]>;
}

/** How many alerts are in flight at once by default (Sentinel: a few requests each). */
export const ALERT_CONCURRENCY = 8;

function takesBatches(writer: AlertWriter): writer is BatchAlertWriter {
  return typeof (writer as Partial<BatchAlertWriter>).raiseAll === "function";
}

/**
 * The raised alerts, in the order asked. When one fails, no further alert is started, those in flight are let
 * finish, and the first error is thrown: the caller writes no status for this batch (as after a kill), and the
 * next run raises them again, finding those that exist.
 */
export async function raiseAlerts(
  writer: AlertWriter,
  alerts: readonly AlertRequest[],
  concurrency = ALERT_CONCURRENCY,
): Promise<RaisedAlert[]> {
  if (alerts.length === 0) return [];
  if (takesBatches(writer)) return writer.raiseAll(alerts);
  const raised: RaisedAlert[] = new Array(alerts.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < alerts.length) {
      const i = next++;
      try {
        raised[i] = await writer.raise(alerts[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, alerts.length)) }, worker));
  if (failure) throw failure.error;
  return raised;
}
