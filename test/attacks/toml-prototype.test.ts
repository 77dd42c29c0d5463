/**
 * A TOML key named `__proto__` (rule text posted to /translate, or a rule file): toml-eslint-parser's plain objects
 * take `[__proto__]` as Object.prototype itself, so one request added properties to every object of the server
 * process before the rule was checked, and every later JSON request was refused ("must NOT have additional
 * properties") until a restart. Such a key is refused now, at its line and column, before any value is built.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/diagnostics/index.js";
import { parseTomlDocument } from "../../src/rules/toml-document.js";
import { type AttackServer, postJson, serve } from "./serve.js";

let server: AttackServer;
beforeAll(async () => {
  server = await serve();
});
afterAll(async () => {
  delete (Object.prototype as Record<string, unknown>).shmhuntReviewPolluted;
  await server?.stop();
});
const post = (route: string, body: unknown) => postJson(server, route, body);
const sane = { target: "defender", eql: 'process where process.name == "a"' };

describe("/translate rule text with a [__proto__] table", () => {
  it("is refused, leaves Object.prototype alone, and the service keeps answering", async () => {
    expect((await post("/translate", sane)).status).toBe(200);
    expect((await fetch(`${server.url}/hits?status=pending`)).status).toBe(200);

    const response = await post("/translate", {
      target: "defender",
      rule: '[__proto__]\nshmhuntReviewPolluted = "yes"\n',
    });
    expect(response.status).toBe(400);

    const polluted = ({} as Record<string, unknown>).shmhuntReviewPolluted;
    const translate = await post("/translate", sane);
    const hits = await fetch(`${server.url}/hits?status=pending`);
    const run = await post("/hunt/run", {});
    expect({
      polluted,
      translate: `${translate.status} ${await translate.text()}`.slice(0, 120),
      hits: `${hits.status} ${await hits.text()}`.slice(0, 120),
      run: run.status,
    }).toEqual({
      polluted: undefined,
      translate: expect.stringMatching(/^200 /),
      hits: expect.stringMatching(/^200 /),
      run: 200,
    });
  });
});

describe("a TOML key named __proto__, wherever it is", () => {
  const cases: Array<[string, string]> = [
    ["a table", '[__proto__]\nfoo = "x"\n'],
    ["a table under another", '[rule]\nname = "n"\n[rule.__proto__]\nfoo = "x"\n'],
    ["an array of tables", '[[__proto__]]\nfoo = "x"\n'],
    ["a dotted key", 'a.__proto__.foo = "x"\n'],
    ["a quoted key", '"__proto__" = { foo = "x" }\n'],
    ["an inline table's key", 'a = { __proto__ = { foo = "x" } }\n'],
  ];
  for (const [where, text] of cases)
    it(`is refused in ${where}, naming its place, and no object gains a property`, () => {
      const { document, diagnostics } = parseTomlDocument("rule.toml", text);
      expect(document).toBeUndefined();
      expect(diagnostics.map(formatDiagnostic)[0]).toMatch(
        /^rule\.toml:\d+:\d+: error RULE200: TOML: a key named __proto__/,
      );
      expect(({} as Record<string, unknown>).foo).toBeUndefined();
    });

  it("a key merely holding the text (`proto`, `__proto`) is read as usual", () => {
    const { document } = parseTomlDocument("rule.toml", "__proto = 1\nproto__ = 2\n");
    expect(document?.value).toEqual({ __proto: 1, proto__: 2 });
  });
});
