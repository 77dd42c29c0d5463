import type { Command } from "commander";
import { readEvents, readJsonDocument } from "../../eql/event-file.js";
import { evaluate, fieldsFromEsMapping, parseEql } from "../../eql/index.js";
import { CliError, createOutput } from "../output.js";

interface EqlOptions {
  events: string;
  categoryField: string;
  timestampField: string;
  tiebreakerField?: string;
  size?: number;
  mapping?: string;
  json?: boolean;
}

export function registerEql(program: Command): void {
  program
    .command("eql")
    .description("run an EQL query over JSON events; prints each matching event (or sequence/sample) as a JSON line")
    .argument("<query>", "the EQL query (Elasticsearch dialect)")
    .requiredOption("--events <file>", "events: NDJSON (one per line) or a JSON array; - reads standard input")
    .option("--category-field <field>", "field holding the event category", "event.category")
    .option("--timestamp-field <field>", "field holding the event time", "@timestamp")
    .option("--tiebreaker-field <field>", "field ordering events with equal timestamps")
    .option("--size <n>", "maximum number of results (default: all)", parseSize)
    .option("--mapping <file>", "Elasticsearch index mapping (JSON) for field types, aliases and null values")
    .option("--json", "NDJSON only (no summary on stderr)")
    .action(async (text: string, options: EqlOptions) => {
      const out = createOutput(options);
      const query = parseEql(text);
      const events = await readEvents(options.events);
      const fields = options.mapping ? fieldsFromEsMapping(await readJsonDocument(options.mapping)) : undefined;
      const matches = evaluate(query, events, {
        categoryField: options.categoryField,
        timestampField: options.timestampField,
        ...(options.tiebreakerField ? { tiebreakerField: options.tiebreakerField } : {}),
        ...(options.size !== undefined ? { size: options.size } : {}),
        ...(fields ? { fields } : {}),
      });
      for (const match of matches) {
        const record =
          query.kind === "event" ? match.events[0] : { [query.kind]: match.events, join_keys: match.joinKeys };
        out.record(record, JSON.stringify(record));
      }
      out.info(
        `${matches.length} ${query.kind === "event" ? "event" : query.kind}${matches.length === 1 ? "" : "s"} matched`,
      );
    });
}

function parseSize(value: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`--size must be a whole number, got "${value}"`);
  return Number(value);
}
