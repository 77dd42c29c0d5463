/**
 * The embedded default's alert writer: incidents go to local state, readable through the API. Same contract as
 * the Sentinel writer: deterministic ids from the hit key, and an incident that exists is never overwritten.
 */

import { contentIds } from "../sentinel/ids.js";
import type { AlertRequest, RaisedAlert } from "../sentinel/incidents.js";
import type { HuntState, LocalIncident } from "./hunt-state.js";
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

  /** Many alerts as one write of the state store. */
  async raiseAll(alerts: readonly AlertRequest[]): Promise<RaisedAlert[]> {
    const incidents = alerts.map((alert) => this.incidentOf(alert));
    const created = await this.state.createIncidents(incidents);
    return incidents.map((incident, i) => ({
      incidentId: incident.id,
      bookmarkId: incident.bookmarkId,
      created: created[i] === true,
    }));
  }

  private incidentOf(alert: AlertRequest): LocalIncident {
    return {
      id: contentIds.incident(alert.hitKey),
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
      evidence: {
        query: alert.query,
        queryStart: alert.queryStart.toISOString(),
        queryEnd: alert.queryEnd.toISOString(),
        row: alert.row,
        entities: alert.entities.map((e) => ({ entityType: e.entityType, fieldMappings: [...e.fieldMappings] })),
      },
    };
  }
}
