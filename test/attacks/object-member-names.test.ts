/**
 * Names that are also members of every JavaScript object (`constructor`, `toString`, `valueOf`, `hasOwnProperty`,
 * `__proto__`), met where a map of the project is looked up by a name from outside: an EQL field of a query, an
 * entity type of a rule. They used to find Object's members: a field `constructor` threw a plain Error (a 500 from
 * /translate), an entity type `constructor` a TypeError (a 500, and a rules folder holding such a file failed to
 * load as a whole). They are refused now as any unknown name is: oracle, the answer a made-up name gets.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { loadRuleText } from "../../src/rules/loader.js";
import { type AttackServer, serve } from "./serve.js";

let server: AttackServer;
beforeAll(async () => {
  server = await serve();
});
afterAll(async () => {
  await server?.stop();
});

const NAMES = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];
const TARGETS = ["defender", "asim", "auditd"] as const;
const seed = readFileSync(path.join(import.meta.dirname, "../../rules/shm-creation.toml"), "utf8");
const withEntity = (type: string) =>
  seed.replace("[shmhunt.entities]\n", `[shmhunt.entities]\n${type} = { HostName = "host.name" }\n`);

describe("names of Object's members", () => {
  it("as an EQL field: refused on every target as a made-up field is", () => {
    for (const target of TARGETS) {
      const madeUp = translateQuery(parseEql('process where no_such_field == "x"'), target).refused;
      expect(madeUp?.kind).toBe("field");
      for (const name of NAMES) {
        const refused = translateQuery(parseEql(`process where ${name} == "x"`), target).refused;
        expect(refused?.message).toBe(madeUp?.message.replaceAll("no_such_field", name));
      }
    }
  });

  it("as an EQL field through /translate: a 4xx, as a made-up field", async () => {
    const post = (eql: string) =>
      fetch(`${server.url}/translate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "defender", eql }),
      });
    const madeUp = (await post('process where no_such_field == "x"')).status;
    expect(madeUp).toBeGreaterThanOrEqual(400);
    expect(madeUp).toBeLessThan(500);
    for (const name of NAMES.filter((n) => n !== "__proto__"))
      expect((await post(`process where ${name} == "x"`)).status).toBe(madeUp);
  });

  it("as an entity type of a rule: RULE201 as a made-up type, from the loader and from /translate", async () => {
    const madeUp = loadRuleText("x.toml", withEntity("NoSuchType")).diagnostics.map((d) => d.code);
    expect(madeUp).toContain("RULE201");
    for (const name of ["constructor", "toString", "valueOf", "hasOwnProperty"]) {
      expect(loadRuleText("x.toml", withEntity(name)).diagnostics.map((d) => d.code)).toEqual(madeUp);
      const response = await fetch(`${server.url}/translate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "defender", rule: withEntity(name) }),
      });
      expect(`${response.status} ${await response.text()}`).toMatch(/^400 .*RULE201/);
    }
  });
});
