/**
 * A wildcard pattern of many `*` against a constant (translation folds it) or an event's value (the local EQL
 * evaluator). Both used a backtracking regular expression: `"a"×40 : "*a"×30 + "*b"`, 125 characters of one
 * /translate request, held the server's event loop 38 s (more `*`: hours). Matching is now linear in the pattern
 * times the text. Oracle for the answers: Elasticsearch's wildcard semantics (`*` any run, `?` one character, the
 * whole value), which a pattern ending in `b` cannot meet on a text of `a`s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { type AttackServer, serve } from "./serve.js";

let server: AttackServer;
beforeAll(async () => {
  server = await serve();
});
afterAll(async () => {
  await server?.stop();
});

const text = "a".repeat(60);
const pattern = `${"*a".repeat(40)}*b`;
const matching = `${"*a".repeat(40)}*`;

describe("a wildcard pattern of many stars", () => {
  it("folds against a constant at once in translation: false, and true for one that matches", () => {
    const never = translateQuery(parseEql(`process where "${text}" : "${pattern}"`), "defender");
    expect(never.kql).toBe("DeviceProcessEvents\n| where false");
    const always = translateQuery(parseEql(`process where "${text}" : "${matching}"`), "defender");
    expect(always.kql).toBe("DeviceProcessEvents");
  });

  it("is evaluated over an event at once", () => {
    const events = [{ event: { category: "process" }, process: { name: text } }];
    expect(evaluate(parseEql(`process where process.name : "${pattern}"`), events)).toEqual([]);
    expect(evaluate(parseEql(`process where process.name : "${matching}"`), events)).toHaveLength(1);
  });

  it("through /translate: answered, and the server answers /health meanwhile", async () => {
    const translating = fetch(`${server.url}/translate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "defender", eql: `process where "${text}" : "${pattern}"` }),
    });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect((await translating).status).toBeLessThan(500);
  });
});
