/**
 * The embedded default's alert writer: incidents go to local state, readable through the API. Same contract as
 * the Sentinel writer: deterministic ids from the incident and hit keys, an incident that exists is never
 * overwritten, and each hit of a group adds its bookmark (its evidence) to the group's incident.
 */

import { contentIds } from "../sentinel/ids.js";
import type { AlertRequest, RaisedAlert } from "../sentinel/incidents.js";
import type { StateOp } from "../store/state-store.js";
import { type HuntAlertRequest, isHuntAlertRequest } from "./alert-request.js";
import type { HuntState, StoredEvidence, StoredLocalBookmark, StoredLocalIncident } from "./hunt-state.js";
import type { BatchAlertWriter } from "./raise-alerts.js";

export class LocalAlertWriter implements BatchAlertWriter {
  constructor(
    private readonly state: HuntState,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async raise(alert: AlertRequest): Promise<RaisedAlert> {
    const [raised] = await this.raiseAll([alert]);
    return raised!;
  }

  /**
   * Many alerts as one write of the state store: each alert's incident (if new) and its bookmark. The hits of a group
   * share an incident: it is built and created once per call (a later hit of the group finds it, as it would in the
   * store), each hit adding its bookmark.
   */
  async raiseAll(alerts: readonly AlertRequest[]): Promise<RaisedAlert[]> {
    const incidentIds = new Map<string, string>();
    const ops: StateOp[] = [];
    /** Per alert: its incident's id, and the index of the op creating it (none: an earlier alert of the call did). */
    const placed: Array<{ incidentId: string; bookmarkId: string; createdAt: number | undefined }> = [];
    for (let i = 0; i < alerts.length; i++) {
      const alert = alerts[i]!;
      let incidentId = incidentIds.get(alert.incidentKey);
      const first = incidentId === undefined;
      if (incidentId === undefined) {
        incidentId = contentIds.incident(alert.incidentKey);
        incidentIds.set(alert.incidentKey, incidentId);
      }
      const times = isHuntAlertRequest(alert) ? alert.times : undefined;
      const eventTime = times ? times.eventTime : alert.eventTime.toISOString();
      const evidence = evidenceOf(alert, times);
      const bookmark = this.bookmarkOf(alert, evidence, eventTime);
      const createdAt = first ? ops.length : undefined;
      if (first)
        ops.push(this.state.createIncidentOp(this.incidentOf(alert, incidentId, bookmark.id, evidence, eventTime)));
      ops.push(this.state.createBookmarkOp(incidentId, bookmark));
      placed.push({ incidentId, bookmarkId: bookmark.id, createdAt });
    }
    const created = await this.state.write(ops);
    return placed.map(({ incidentId, bookmarkId, createdAt }) => ({
      incidentId,
      bookmarkId,
      created: createdAt !== undefined && created[createdAt] === true,
    }));
  }

  private incidentOf(
    alert: AlertRequest,
    id: string,
    bookmarkId: string,
    evidence: StoredEvidence,
    eventTime: string,
  ): StoredLocalIncident {
    return {
      id,
      bookmarkId,
      hitKey: alert.hitKey,
      title: alert.title,
      // The hunt's own requests: the description's head only, the row being in the evidence (hunt-state.ts).
      ...(isHuntAlertRequest(alert) ? { descriptionHead: alert.descriptionHead } : { description: alert.description }),
      severity: alert.severity,
      status: "New",
      labels: alert.labels,
      createdAt: this.clock().toISOString(),
      firstActivityTime: eventTime,
      tactics: alert.tactics,
      techniques: alert.techniques,
      evidence,
    };
  }

  private bookmarkOf(alert: AlertRequest, evidence: StoredEvidence, eventTime: string): StoredLocalBookmark {
    return {
      id: contentIds.bookmark(alert.hitKey),
      hitKey: alert.hitKey,
      title: alert.title,
      eventTime,
      labels: alert.labels,
      evidence,
    };
  }
}

/**
 * The alert's evidence; its arrays are the request's own (read-only values, as every record is). The entities of
 * the hunt's own requests are left to be read from the row (hunt-state.ts StoredEvidence).
 */
function evidenceOf(alert: AlertRequest, times: HuntAlertRequest["times"] | undefined): StoredEvidence {
  const evidence = {
    query: alert.query,
    queryStart: times ? times.queryStart : isoOf(alert.queryStart),
    queryEnd: times ? times.queryEnd : isoOf(alert.queryEnd),
    row: alert.row,
  };
  return isHuntAlertRequest(alert) && alert.entitiesFromRow ? evidence : { ...evidence, entities: alert.entities };
}

/** The last few times written out: a batch's alerts share their window's bounds. */
const isoTimes = new Map<number, string>();

function isoOf(date: Date): string {
  const time = date.getTime();
  let iso = isoTimes.get(time);
  if (iso === undefined) {
    iso = date.toISOString();
    if (isoTimes.size >= 64) isoTimes.clear();
    isoTimes.set(time, iso);
  }
  return iso;
}
