/** `metadata`: the content metadata Sentinel Repositories and solutions write (PATCH merges properties). */
import type { Kind } from "./kind.js";
import { checkBoolean, checkEnum, checkString, Enums, invalid, propertiesOf, requireProps } from "./validation.js";
import { isRecord } from "./wire.js";

export const metadata: Kind = {
  label: "Metadata",
  type: "Microsoft.SecurityInsights/metadata",
  collection: (w) => w.metadata,
  patch: true,
  write({ name, id, body }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["kind", "parentId"]);
    checkEnum(properties, "kind", Enums.metadataKind);
    checkString(properties, "parentId", { nonEmpty: true });
    checkString(properties, "contentId");
    checkString(properties, "version");
    const source = properties.source;
    if (source !== undefined) {
      if (!isRecord(source)) invalid("Property 'source' must be an object.");
      requireProps(source, ["kind"]);
      checkEnum(source, "kind", Enums.sourceKind, "source.kind");
    }
    const support = properties.support;
    if (support !== undefined) {
      if (!isRecord(support)) invalid("Property 'support' must be an object.");
      requireProps(support, ["tier"]);
      checkEnum(support, "tier", Enums.supportTier, "support.tier");
    }
    checkBoolean(properties, "isDeleted");
    return { id, name, type: this.type, properties };
  },
};
