/**
 * The embedded default's alert writer: incidents go to local state, readable through the API. Same contract as
 * the Sentinel writer: deterministic ids from the incident and hit keys, an incident that exists is never
 * overwritten, and each hit of a group adds its bookmark (its evidence) to the group's incident.
 */

import { contentIds } from "../sentinel/ids.js";
import type { AlertRequest, AlertWriter, RaisedAlert } from "../sentinel/incidents.js";
import type { HuntState, LocalIncident } from "./hunt-state.js";

export class LocalAlertWriter implements AlertWriter {
  constructor(
    private readonly state: HuntState,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async raise(alert: AlertRequest): Promise<RaisedAlert> {
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
    const created = await this.state.createIncident(incident);
    await this.state.createBookmark(incident.id, {
      id: incident.bookmarkId,
      hitKey: alert.hitKey,
      title: alert.title,
      eventTime: alert.eventTime.toISOString(),
      labels: [...alert.labels],
      evidence,
    });
    return { incidentId: incident.id, bookmarkId: incident.bookmarkId, created };
  }
}
