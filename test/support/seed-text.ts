/**
 * The seed documents' own text of the two seed rules (../shared/DESIGN.md, "The two seed rules (ship them exactly
 * as given)"): the oracle the shipped rules/ files are checked against, byte for byte.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

const design = readFileSync(path.resolve(import.meta.dirname, "../../../shared/DESIGN.md"), "utf8");
const section = design.slice(design.indexOf("## The two seed rules"), design.indexOf("## Data flow"));

/** The fenced blocks of the section, each with the list item's two-space indent removed. */
const blocks = [...section.matchAll(/^ {2}```\n([\s\S]*?)^ {2}```$/gm)].map((m) => (m[1] ?? "").replace(/^ {2}/gm, ""));

/** The shm-execution query (version 103), as the seed gives it, ending in a newline. */
export const seedExecutionQuery: string = blocks[0] ?? "";
/** The Derusbi YARA rule, as the seed gives it, ending in a newline. */
export const seedCreationYara: string = blocks[1] ?? "";
