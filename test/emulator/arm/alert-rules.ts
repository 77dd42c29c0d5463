/** `alertRules`: Scheduled rules only, validated as the service does (alert-rule.ts). */

import type { Kind } from "./kind.js";
import { validateScheduledRule } from "./scheduled-rule-checks.js";
import { invalid } from "./validation.js";
import { badRequest, fail } from "./wire.js";

export const alertRules: Kind = {
  label: "Alert rule",
  type: "Microsoft.SecurityInsights/alertRules",
  collection: (w) => w.alertRules,
  write({ request, name, id, body, previous }) {
    const kind = body.kind;
    const known = [
      "Scheduled",
      "MicrosoftSecurityIncidentCreation",
      "Fusion",
      "MLBehaviorAnalytics",
      "ThreatIntelligence",
      "NRT",
    ];
    if (typeof kind !== "string" || !known.includes(kind)) {
      invalid(`Required property 'kind' must be one of ${known.join(", ")}.`);
    }
    if (previous && previous.kind !== kind)
      fail(badRequest(`The kind of alert rule '${name}' cannot be changed from ${previous.kind} to ${kind}.`));
    if (kind !== "Scheduled") {
      fail(badRequest(`Alert rule kind '${kind}' is not supported by the shmhunt emulator (Scheduled only).`));
    }
    const properties = validateScheduledRule(body, request.workspace, request.engine);
    return {
      id,
      name,
      type: this.type,
      kind,
      properties: {
        alertRuleTemplateName: null,
        ...properties,
        lastModifiedUtc: request.now.toISOString(),
      },
    };
  },
};
