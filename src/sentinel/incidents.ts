/**
 * Raises a hit as a Sentinel incident with a hunting bookmark (the evidence) related to it; the hits of one group
 * (see `AlertRequest.incidentKey`) share the incident, each with its own bookmark.
 *
 * Ids are derived from the incident key and the hit key, so a retry addresses the same incident, bookmark and
 * relation. An incident or
 * bookmark that already exists is never written again: an analyst's status, owner, classification and comments
 * survive every later run. Only the relation is (idempotently) re-put, so a run killed between the incident and
 * the relation completes the link next time.
 */
import type { Bookmark, Incident, SecurityInsights } from "@azure/arm-securityinsight";
import { contentIds, uuidv5 } from "./ids.js";
import type { SentinelSeverity } from "./vocabulary.js";

export type AlertSeverity = SentinelSeverity;

export interface EntityMapping {
  readonly entityType: string;
  readonly fieldMappings: readonly { readonly identifier: string; readonly value: string }[];
}

/** Everything an incident says about one hit. */
export interface AlertRequest {
  /** The hit's stable key: the same event seen in overlapping windows has the same key. Names the bookmark. */
  readonly hitKey: string;
  /**
   * Names the incident: the hit key when hits are not grouped, else the key of the hit's group (same rule, target,
   * grouped entity values and grouping window), so that the hits of a group share one incident.
   */
  readonly incidentKey: string;
  readonly title: string;
  readonly description: string;
  readonly severity: AlertSeverity;
  /** Incident labels: rule id, MITRE ids, the verdict. */
  readonly labels: readonly string[];
  readonly query: string;
  readonly queryStart: Date;
  readonly queryEnd: Date;
  readonly eventTime: Date;
  /** The result row behind the hit. */
  readonly row: Readonly<Record<string, unknown>>;
  readonly entities: readonly EntityMapping[];
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
}

export interface RaisedAlert {
  readonly incidentId: string;
  readonly bookmarkId: string;
  /** False when the incident existed already (a retry, or a hit seen again): it was left as it was. */
  readonly created: boolean;
}

/** A verdict that arrived after its incident was raised: a comment, and labels to add (never to remove). */
export interface IncidentNote {
  /** Stable per hit and verdict, so a retry writes the same comment once. */
  readonly noteKey: string;
  readonly comment: string;
  readonly labels: readonly string[];
}

export interface AlertWriter {
  raise(alert: AlertRequest): Promise<RaisedAlert>;
  /** Adds a comment and labels to a raised incident, leaving everything else (an analyst's changes) as it is. */
  annotate?(incidentId: string, note: IncidentNote): Promise<void>;
}

export class SentinelAlertWriter implements AlertWriter {
  constructor(
    private readonly client: SecurityInsights,
    private readonly resourceGroup: string,
    private readonly workspaceName: string,
  ) {}

  async raise(alert: AlertRequest): Promise<RaisedAlert> {
    const rg = this.resourceGroup;
    const ws = this.workspaceName;
    const incidentId = contentIds.incident(alert.incidentKey);
    const bookmarkId = contentIds.bookmark(alert.hitKey);

    const existing = await getOrUndefined(() => this.client.incidents.get(rg, ws, incidentId));
    if (!existing) await this.client.incidents.createOrUpdate(rg, ws, incidentId, incidentOf(alert));

    const bookmark = await getOrUndefined(() => this.client.bookmarks.get(rg, ws, bookmarkId));
    const bookmarkResource =
      bookmark ?? (await this.client.bookmarks.createOrUpdate(rg, ws, bookmarkId, bookmarkOf(alert)));

    if (bookmarkResource.id) {
      await this.client.incidentRelations.createOrUpdate(rg, ws, incidentId, bookmarkId, {
        relatedResourceId: bookmarkResource.id,
      });
    }
    return { incidentId, bookmarkId, created: !existing };
  }

  /**
   * Reads the incident, adds the labels it lacks to the labels it has (an analyst's labels, status, owner,
   * classification and title stay as read), writes it back with the etag read (a 409/412 means someone changed it
   * meanwhile: read again and merge again), then writes the comment under an id derived from the note (once).
   */
  async annotate(incidentId: string, note: IncidentNote): Promise<void> {
    const rg = this.resourceGroup;
    const ws = this.workspaceName;
    for (let attempt = 1; ; attempt++) {
      const incident = await this.client.incidents.get(rg, ws, incidentId);
      const have = incident.labels ?? [];
      const missing = note.labels.filter((l) => !have.some((h) => h.labelName === l));
      if (missing.length === 0) break;
      try {
        await this.client.incidents.createOrUpdate(rg, ws, incidentId, {
          ...writableIncident(incident),
          labels: [...have, ...missing.map((labelName) => ({ labelName }))],
        });
        break;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if ((status === 409 || status === 412) && attempt < ANNOTATE_ATTEMPTS) continue;
        throw error;
      }
    }
    await this.client.incidentComments.createOrUpdate(rg, ws, incidentId, uuidv5(`comment/${note.noteKey}`), {
      message: note.comment,
    });
  }
}

/** Conflicts (another writer changed the incident between our read and write) retried before giving up. */
const ANNOTATE_ATTEMPTS = 3;

/**
 * The incident as read, reduced to what a client writes back (Incidents.json: the readOnly properties are the
 * service's), with its etag, so that a PUT keeps every value an analyst set. Absent (null) values are left out.
 */
export function writableIncident(incident: Incident): Incident {
  const keep = <K extends keyof Incident>(...keys: K[]) =>
    Object.fromEntries(
      keys.filter((k) => incident[k] !== undefined && incident[k] !== null).map((k) => [k, incident[k]]),
    );
  const owner = incident.owner
    ? Object.fromEntries(Object.entries(incident.owner).filter(([, v]) => v !== undefined && v !== null))
    : {};
  return {
    ...keep(
      "etag",
      "title",
      "description",
      "severity",
      "status",
      "classification",
      "classificationComment",
      "classificationReason",
      "firstActivityTimeUtc",
      "lastActivityTimeUtc",
      "providerIncidentId",
      "providerName",
      "labels",
    ),
    ...(Object.keys(owner).length > 0 ? { owner } : {}),
  } as Incident;
}

function incidentOf(alert: AlertRequest): Incident {
  return {
    title: alert.title,
    description: alert.description,
    severity: alert.severity,
    status: "New",
    labels: alert.labels.map((labelName) => ({ labelName })),
    firstActivityTimeUtc: alert.eventTime,
    lastActivityTimeUtc: alert.eventTime,
  };
}

function bookmarkOf(alert: AlertRequest): Bookmark {
  return {
    displayName: alert.title,
    query: alert.query,
    queryResult: JSON.stringify(alert.row),
    queryStartTime: alert.queryStart,
    queryEndTime: alert.queryEnd,
    eventTime: alert.eventTime,
    labels: [...alert.labels],
    tactics: alert.tactics as Bookmark["tactics"],
    techniques: [...alert.techniques],
    entityMappings: alert.entities.map((e) => ({
      entityType: e.entityType,
      fieldMappings: e.fieldMappings.map((f) => ({ identifier: f.identifier, value: f.value })),
    })),
  };
}

/** Runs a GET; a 404 is `undefined`, any other failure propagates. */
async function getOrUndefined<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}
