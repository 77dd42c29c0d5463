/**
 * The embedded default's alert writer: incidents go to local state, readable through the API. Same contract as
 * the Sentinel writer: deterministic ids from the incident and hit keys, an incident that exists is never
 * overwritten, and each hit of a group adds its bookmark (its evidence) to the group's incident.
 */

import { contentIds } from "../sentinel/ids.js";
import type { AlertRequest, RaisedAlert } from "../sentinel/incidents.js";
import type { HuntState, LocalBookmark, LocalIncident } from "./hunt-state.js";
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

  /** Many alerts as one write of the state store: each alert's incident (if new) and its bookmark. */
  async raiseAll(alerts: readonly AlertRequest[]): Promise<RaisedAlert[]> {
    const records = alerts.map((alert) => this.recordsOf(alert));
    const created = await this.state.write(
      records.flatMap(({ incident, bookmark }) => [
        this.state.createIncidentOp(incident),
        this.state.createBookmarkOp(incident.id, bookmark),
      ]),
    );
    return records.map(({ incident }, i) => ({
      incidentId: incident.id,
      bookmarkId: incident.bookmarkId,
      created: created[2 * i] === true,
    }));
  }

  private recordsOf(alert: AlertRequest): { incident: LocalIncident; bookmark: LocalBookmark } {
    const evidence = {
      query: alert.query,
      queryStart: alert.queryStart.toISOString(),
      queryEnd: alert.queryEnd.toISOString(),
      row: alert.row,
      entities: alert.entities.map((e) => ({ entityType: e.entityType, fieldMappings: [...e.fieldMappings] })),
    };
    const incident: LocalIncident = {
      id: contentIds.incident(alert.incidentKey),
      bookmarkId: contentIds.bookmark(alert.hitKey),
      hitKey: alert.hitKey,
      title: alert.title,
      description: alert.description,
      severity: alert.severity,
      status: "New",
      labels: [...alert.labels],
      createdAt: this.clock().toISOString(),
      firstActivityTime: alert.eventTime.toISOString(),
      tactics: [...alert.tactics],
      techniques: [...alert.techniques],
      evidence,
    };
    const bookmark: LocalBookmark = {
      id: incident.bookmarkId,
      hitKey: alert.hitKey,
      title: alert.title,
      eventTime: alert.eventTime.toISOString(),
      labels: [...alert.labels],
      evidence,
    };
    return { incident, bookmark };
  }
}
