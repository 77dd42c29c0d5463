import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { type Translation, translateQuery, validateQuery } from "../../src/kql/index.js";
import { luceneToRe2 } from "../../src/kql/lucene-re2.js";
import type { Exclusions, Target } from "../../src/rules/types.js";

function kql(eql: string, target: Target = "defender", exclusions?: Exclusions): string {
  const t = translateQuery(parseEql(eql), target, exclusions ? { exclusions } : {});
  expect(t.refused, t.refused?.message).toBeUndefined();
  expect(t.diagnostics).toEqual([]);
  return t.kql ?? "";
}

const flat = (text: string) => text.replace(/\s*\n\s*/g, " ");

function refusal(eql: string, target: Target = "defender"): NonNullable<Translation["refused"]> {
  const t = translateQuery(parseEql(eql), target);
  expect(t.refused).toBeDefined();
  return t.refused as NonNullable<Translation["refused"]>;
}

describe("case rules and wildcards", () => {
  it("keeps == case-sensitive and makes : case-insensitive", () => {
    expect(kql('process where process.name == "Bash"')).toContain('FileName == "Bash"');
    expect(kql('process where process.name : "Bash"')).toContain('FileName =~ "Bash"');
    expect(kql('process where process.name in ("a", "b")')).toContain('FileName in ("a", "b")');
    expect(kql('process where process.name in~ ("a", "b")')).toContain('FileName in~ ("a", "b")');
    expect(kql('process where process.name not in ("a", "b")')).toContain('not(FileName in ("a", "b"))');
  });

  it("anchors wildcards with the cheapest operator of the right case", () => {
    expect(kql('process where process.executable like "/dev/shm/*"')).toContain('FolderPath startswith_cs "/dev/shm/"');
    expect(kql('process where process.executable like~ "/dev/shm/*"')).toContain('FolderPath startswith "/dev/shm/"');
    expect(kql('process where process.executable : "*/x"')).toContain('FolderPath endswith "/x"');
    expect(kql('process where process.executable like "*x*"')).toContain('FolderPath contains_cs "x"');
    expect(kql('process where process.executable like "/a*b?.c"')).toContain(
      'FolderPath matches regex @"(?s)^(?:/a.*b.\\.c)$"',
    );
    expect(kql('process where process.executable : "*"')).toContain("isnotempty(FolderPath)");
  });

  it("translates Lucene regexes to anchored RE2 and refuses what RE2 cannot express", () => {
    expect(kql('process where process.name regex "a.c|[0-9]+"')).toContain(
      'FileName matches regex @"(?s)^(?:a.c|(?:[0-9])+)$"',
    );
    expect(kql('process where process.name regex~ """^x$"""')).toContain('@"(?is)^(?:\\^x\\$)$"');
    // Lucene RegExp javadoc: "if n and m have the same number of digits, then the conforming strings must have
    // that length"
    expect(kql('process where process.name regex "<1-3>"')).toContain('@"(?s)^(?:(?:[1-3]))$"');
    expect(() => luceneToRe2("a~b")).toThrow(/complement/);
    expect(() => luceneToRe2("a&b")).toThrow(/intersection/);
    expect(luceneToRe2('"a.b"@#')).toBe("a\\.b.*[^\\x{0}-\\x{10FFFF}]");
  });

  it("refuses a repetition count RE2 does not read, rather than a query that fails when it runs", () => {
    // RE2's syntax (doc/syntax.txt): "The counting forms x{n,m}, x{n,}, and x{n} reject forms that create a minimum
    // or maximum repetition count above 1000. Unlimited repetitions are not subject to this restriction."
    // The EQL is refused as it is read (EQL120): the parser compiles every regex in RE2 (src/eql/patterns.ts), the
    // engine of Kusto's matches regex, so its own limits decide.
    expect(kql('process where process.name regex "a{1000}"')).toContain('@"(?s)^(?:(?:a){1000})$"');
    for (const re of ["a{1001}", "a{2,1001}", "a{1001,}", "a{100000000000000000000}"]) {
      for (const field of ["process.name", "process.args"]) {
        expect(() => kql(`process where ${field} regex "${re}"`), re).toThrow(/EQL120/);
      }
    }
  });
});

describe("string literals cannot break out", () => {
  const hostile = ['a"b', "back\\slash\\", 'x" | take 1 //', "semi;colon", "new\nline\ttab\r", "it's", '@"x"'];
  for (const s of hostile) {
    it(`escapes ${JSON.stringify(s)}`, () => {
      const lit = JSON.stringify(s); // EQL string literal with the same escapes as JSON here
      for (const eql of [
        `process where process.name == ${lit}`,
        `process where process.name : (${lit}, "*")`,
        `process where process.executable like (${lit} + "*")`.replace(' + "*"', ""),
        `process where process.command_line regex ${lit.replace(/\\\\/g, "\\\\\\\\")}`,
        `process where process.args == ${lit}`,
        `process where startsWith(process.name, ${lit})`,
      ]) {
        let query: ReturnType<typeof parseEql>;
        try {
          query = parseEql(eql);
        } catch {
          continue; // not valid EQL (e.g. a regex escape): nothing to translate
        }
        for (const target of ["defender", "asim", "auditd"] as const) {
          const t = translateQuery(query, target);
          if (t.refused) continue;
          expect(t.diagnostics, `${eql} → ${t.kql}`).toEqual([]);
          // one statement, one query: nothing escaped the literal to add a pipe or a statement
          expect(validateQuery(`${t.kql}\n| count`)).toEqual([]);
        }
      }
    });
  }

  it("refuses a control character that KQL has no escape for", () => {
    expect(refusal('process where process.name == "a\\u{07}b"').subject).toBe("control character in a string");
  });
});

describe("null and missing values", () => {
  it("turns == null into an existence check", () => {
    expect(kql("process where process.parent.name == null")).toContain("not(isnotempty(InitiatingProcessFileName))");
    expect(kql("process where process.pid != null")).toContain("isnotnull(ProcessId)");
  });

  it("lets a negated query leaf match a missing number, as Elasticsearch's must_not does", () => {
    expect(kql("process where process.pid != 5")).toContain("isnull(ProcessId) or ProcessId != 5");
    expect(kql("process where not process.pid in (1, 2)")).toContain("isnull(ProcessId) or not(ProcessId in (1, 2))");
  });

  it("keeps a negated script leaf from matching a missing value", () => {
    expect(flat(kql("process where not length(process.name) > 3"))).toContain(
      `isnotempty(FileName) and strlen(FileName) + countof(FileName, @"[\\x{10000}-\\x{10FFFF}]", "regex") <= 3`,
    );
    expect(flat(kql('process where not concat(process.name, "x") == "ax"'))).toContain(
      'isnotempty(FileName) and not(iff(isempty(FileName), "", strcat(FileName, "x")) == "ax")',
    );
  });

  it("reads an optional field without counterpart as null (false), and refuses a required one", () => {
    expect(kql('process where process.name == "x" or ?auditd.data.syscall == "shmget"')).toBe(
      'DeviceProcessEvents\n| where FileName == "x"',
    );
    const r = refusal('process where auditd.data.syscall == "shmget"');
    expect(r.kind).toBe("field");
    expect(r.subject).toBe("auditd.data.syscall");
  });
});

describe("mapping data", () => {
  it("maps values and reports approximations", () => {
    const t = translateQuery(parseEql('process where event.action == "exec" and user.id == "0"'), "defender");
    expect(t.kql).toContain('ActionType == "ProcessCreated"');
    expect(t.kql).toContain('AccountName == "root"');
    expect(t.approximations.some((a) => a.startsWith("user.id:"))).toBe(true);
  });

  it("refuses an unmapped value naming field and value", () => {
    const r = refusal('process where user.id == "1000"');
    expect(r.message).toContain("user.id");
    expect(r.message).toContain('"1000"');
  });

  it("refuses a field without counterpart, naming it", () => {
    expect(refusal('process where process.entry_leader.entry_meta.type == "container"').reason).toBe(
      "field process.entry_leader.entry_meta.type",
    );
    expect(kql('process where process.working_directory == "/tmp"')).toContain(
      "AdditionalFields.ProcessCurrentWorkingDirectory",
    );
    expect(kql('process where process.working_directory == "/tmp"', "asim")).toContain("TargetProcessCurrentDirectory");
  });

  it("folds fields that are constant on a source", () => {
    expect(kql('process where host.os.type == "linux" and process.name == "x"', "auditd")).not.toContain("linux");
    expect(refusal('process where host.os.type == "windows"', "auditd").subject).toBe("always false");
  });
});

describe("functions, sequences and refusals", () => {
  it("translates functions", () => {
    expect(kql('process where stringContains~(process.name, "X")')).toContain('FileName contains "X"');
    expect(kql('process where endsWith(process.name, "X")')).toContain('FileName endswith_cs "X"');
    expect(kql('process where substring(process.name, 1, 3) == "ab"')).toContain('substring(FileName, 1, 2) == "ab"');
    expect(kql('process where concat(process.name, "-", process.pid) == "a-1"')).toContain(
      'strcat(FileName, "-", tostring(ProcessId))',
    );
    expect(kql('process where between(process.command_line, "-u ", " ") == "root"')).toContain("extract(");
    expect(kql("process where process.pid + 1 > 100")).toContain("ProcessId + 1 > 100");
    expect(kql('process where substring(process.name, -2) == "ab"')).toContain(
      "substring(FileName, iff(strlen(FileName) > 2, strlen(FileName) - 2, 0))",
    );
    expect(flat(kql('process where process.name >= "a" and process.name < "b"'))).toContain(
      'strcmp(FileName, "a") >= 0 and strcmp(FileName, "b") < 0',
    );
    expect(kql('process where @timestamp < "2017-08-30T20:47:32Z"')).toContain(
      "Timestamp < datetime(2017-08-30T20:47:32.000Z)",
    );
    expect(refusal('process where @timestamp < "yesterday"').subject).toBe("date compared with a non-date");
    expect(refusal('process where event.action > "exec"').subject).toBe("event.action");
    expect(kql("process where false")).toContain("| where false");
    expect(refusal("process where process.pid == number(process.name, 16)").subject).toBe(
      "number with a base other than 10",
    );
  });

  it("translates a sequence with by and maxspan to a scan over rows sorted by key and time", () => {
    const text = kql(
      'sequence by host.id with maxspan=30s [process where process.name == "a"] [process where process.name == "b"]',
    );
    expect(text).toContain("union shmhuntStep1, shmhuntStep2");
    expect(text).toContain("| sort by ShmhuntKey0 asc, ShmhuntTime asc, ShmhuntStep desc");
    expect(flat(text)).toContain(
      "step s2: ShmhuntStep == 2 and isnull(s2.ShmhuntStage) and ShmhuntKey0 == s1.ShmhuntKey0 and ShmhuntTime - s1.ShmhuntTime <= 30s",
    );
    expect(text).not.toContain("join");
  });

  it("translates until as a step that marks the key's sequences in progress dead", () => {
    const text = kql(
      "sequence by host.id [process where true] [process where true] [process where true] until [file where true]",
    );
    expect(text).toContain("let shmhuntUntil = DeviceFileEvents");
    expect(text).toContain("ShmhuntStep = 0");
    expect(flat(text)).toContain(
      "or (ShmhuntStep == 0 and ShmhuntKey0 == s2.ShmhuntKey0) => ShmhuntStage = 2, ShmhuntDead",
    );
    expect(text).toContain("s2.ShmhuntDead == false");
  });

  it("reports an until that never matches on the target instead of refusing the sequence", () => {
    const eql =
      'sequence by process.entity_id [process where process.name == "a"] [file where true] until [process where event.type == "end"]';
    const t = translateQuery(parseEql(eql), "defender");
    expect(t.refused).toBeUndefined();
    expect(t.kql).not.toContain("shmhuntUntil");
    expect(t.approximations.join("\n")).toContain("sequence until: never matches on defender");
    expect(kql(eql, "asim")).toContain("let shmhuntUntil = _Im_ProcessEvent");
  });

  it("refuses missing events and samples with their construct", () => {
    expect(
      refusal("sequence by host.id with maxspan=1m [process where true] ![process where true] [process where true]")
        .subject,
    ).toBe("sequence missing event");
    expect(refusal("sample by host.id [process where true] [process where true]").subject).toBe("sample");
  });

  it("refuses categories without a source by name (issue 10, section 5)", () => {
    // ASIM NetworkSession (_Im_NetworkSession) is not mapped: network rules are refused on asim, not guessed.
    expect(refusal("network where destination.port == 4444", "asim").subject).toBe("category network");
    // Defender's DeviceEvents categories (driver loads, library loads) have no source either.
    expect(refusal("driver where true", "defender").subject).toBe("category driver");
    expect(refusal('library where dll.name == "x"', "defender").subject).toBe("category library");
  });

  it("reads exclusions from the watchlist at run time, never inlining their values", () => {
    const exclusions: Exclusions = {
      watchlist: "Ex",
      description: "",
      items: [
        { scenario: "s", field: "process.name", operator: "==", values: ['evil" | take 1'] },
        { scenario: "t", field: "process.name", operator: ":", values: ["x*"] },
      ],
    };
    const text = kql('process where process.name : "*"', "defender", exclusions);
    expect(text).toContain('_GetWatchlist("Ex")');
    expect(text).toContain("FileName !in (shmhuntExcluded1)");
    expect(text).toContain("FileName matches regex shmhuntExcluded2");
    expect(text).not.toContain("evil");
  });
});

describe("argv approximated from the command line", () => {
  it("matches any whitespace-separated token, and refuses what needs the list itself", () => {
    expect(kql('process where process.args == "-c"')).toContain(
      'ProcessCommandLine matches regex @"(?s)(?:^|\\s)(?:-c)(?:\\s|$)"',
    );
    expect(kql('process where process.args : "*.SH"')).toContain('@"(?is)(?:^|\\s)(?:\\S*\\.SH)(?:\\s|$)"');
    // A literal part every match holds is tested first with contains (served by the term index; section 6).
    expect(kql('process where process.args : ("*curl*", "wget*")')).toContain(
      '(ProcessCommandLine contains "curl" or ProcessCommandLine contains "wget")\n    and ProcessCommandLine matches regex',
    );
    expect(kql('process where process.args : "-?"')).not.toContain("contains");
    expect(refusal("process where process.args == process.name").subject).toBe("== on argv");
    expect(refusal("process where length(process.args) > 2").subject).toBe("length of argv");
  });
});
