/**
 * The ASIM file EventType values an ECS file rename reads. Oracles:
 * - Microsoft's ASIM file event schema (https://learn.microsoft.com/en-us/azure/sentinel/normalization-schema-file-event,
 *   source MicrosoftDocs/azure-docs articles/sentinel/normalization-schema-file-event.md: EventType "… `FileRenamed`,
 *   `FileCopied`, `FileMoved`, …"; the same list in ../shared/schemas/_Im_FileEvent.json, from Microsoft's
 *   ASimTester.csv): a move is a value of its own, beside a rename.
 * - ECS: a file renamed or moved is one event, event.type `change` (Elastic Defend's `rename`, one rename(2) whether
 *   or not the folder changes; auditbeat's file integrity `moved`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";

const schema = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../../../shared/schemas/_Im_FileEvent.json"), "utf8"),
) as { columns: { name: string; listOfValues?: string[] }[] };
const eventTypes = schema.columns.find((c) => c.name === "EventType")?.listOfValues ?? [];

function kql(eql: string): string {
  const t = translateQuery(parseEql(eql), "asim");
  expect(t.refused, t.refused?.message).toBeUndefined();
  return t.kql ?? "";
}

describe("ASIM file EventType of a rename or move", () => {
  it("the schema has FileMoved beside FileRenamed (the premise)", () => {
    expect(eventTypes).toEqual(expect.arrayContaining(["FileRenamed", "FileMoved"]));
  });

  it.each([
    'file where event.type == "change"',
    'file where event.action == "rename"',
    'file where event.action == "moved"',
  ])("%s reads FileMoved as well as FileRenamed", (eql) => {
    const q = kql(eql);
    expect(q).toContain('"FileRenamed"');
    expect(q).toContain('"FileMoved"');
  });
});
