/**
 * The hunt timer's schedule (SHMHUNT_HUNT_SCHEDULE, bound as `%SHMHUNT_HUNT_SCHEDULE%` in functions/index.ts),
 * checked when the configuration is loaded: the Functions host reads it only to start the timer, and a bad one
 * stops that timer alone, saying so only in the host's logs. Microsoft Learn, "Timer trigger for Azure Functions":
 * an NCRONTAB expression is `{second} {minute} {hour} {day} {month} {day-of-week}` ("an additional sixth field at the
 * beginning to use for time precision in seconds"), each field a specific value, all values (`*`), a range (`-`), a
 * set of values (`,`) or an interval (`/`), months and days also by name (`0 30 9 * Jan Mon`). The page notes that
 * five fields are read too, without the seconds; shmhunt asks for six (its documented form, infra/main.bicep) so
 * that a cron line copied from elsewhere is not taken for what it does not say. "A `TimeSpan` can be used only for a
 * function app that runs on an App Service Plan" (same page): the app runs on Flex Consumption, so `hh:mm:ss` is
 * refused too.
 */

const FIELDS = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: [
      "january",
      "february",
      "march",
      "april",
      "may",
      "june",
      "july",
      "august",
      "september",
      "october",
      "november",
      "december",
    ],
  },
  {
    name: "day-of-week",
    min: 0,
    max: 6,
    names: ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"],
  },
] as const;

const EXAMPLE = '"0 */5 * * * *"';

/** Why `expression` is not a six-field NCRONTAB schedule the timer can start with; undefined when it is one. */
export function ncrontabProblem(expression: string): string | undefined {
  const form = `an NCRONTAB schedule of six fields, seconds first ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. ${EXAMPLE}`;
  if (/^(\d+\.)?\d{1,2}:\d{2}(:\d{2})?$/.test(expression))
    return `must be ${form}, not the TimeSpan ${JSON.stringify(expression)}: a TimeSpan schedule is for App Service plans only, and the app runs on Flex Consumption`;
  const fields = expression.split(/\s+/);
  if (fields.length !== FIELDS.length) {
    const five = fields.length === 5 ? " (five fields: a cron line without the seconds)" : "";
    return `must be ${form}, not ${JSON.stringify(expression)}: ${fields.length} field${fields.length === 1 ? "" : "s"}${five}`;
  }
  for (let i = 0; i < FIELDS.length; i++) {
    const problem = fieldProblem(fields[i]!, FIELDS[i]!);
    if (problem) return `must be ${form}, not ${JSON.stringify(expression)}: ${problem}`;
  }
  return undefined;
}

function fieldProblem(
  field: string,
  spec: { readonly name: string; readonly min: number; readonly max: number; readonly names?: readonly string[] },
): string | undefined {
  const bad = `its ${spec.name} field ${JSON.stringify(field)} is not ${spec.min}-${spec.max}${spec.names ? ` (or a name, ${spec.names[0]!.slice(0, 3)}-${spec.names[spec.names.length - 1]!.slice(0, 3)})` : ""}, *, a range a-b, a list a,b or a step */n`;
  const value = (text: string): number | undefined => {
    if (/^\d+$/.test(text)) {
      const n = Number(text);
      return n >= spec.min && n <= spec.max ? n : undefined;
    }
    // "Names are in English. For example: Monday, January. Names are case-insensitive. Names can be abbreviated.
    // Three letters is the recommended abbreviation length" (Microsoft Learn, Timer trigger for Azure Functions,
    // NCRONTAB expressions): a name, or a beginning of one of three letters or more (Tue, Tues, Sept), which is
    // never two names' (jun/jul, mar/may differ by their third letter).
    const lower = text.toLowerCase();
    const named = lower.length >= 3 ? (spec.names?.findIndex((name) => name.startsWith(lower)) ?? -1) : -1;
    return named < 0 ? undefined : spec.min + named;
  };
  for (const part of field.split(",")) {
    const match = /^(\*|[^-/]+(?:-[^-/]+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) return bad;
    const [, range, step] = match;
    if (step !== undefined && Number(step) < 1) return bad;
    if (range === "*") continue;
    const [from, to] = range!.split("-");
    const low = value(from!);
    const high = to === undefined ? low : value(to);
    if (low === undefined || high === undefined || high < low) return bad;
  }
  return undefined;
}
