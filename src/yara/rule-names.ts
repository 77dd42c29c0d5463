/**
 * Which rules a YARA source declares, and which file each rule of a set came from. YARA-X names a matching rule and
 * its namespace, never its file, and a rule set is compiled as one source in one namespace (`default`: the binding
 * has no way to give a file a namespace of its own); a rule's name is unique in the set (a name declared twice is
 * an error of the set), so the file that declares it is known from the sources.
 */
import path from "node:path";

/** The identifiers of the rules a YARA source declares (comments and strings are skipped). */
export function yaraRuleNames(source: string): string[] {
  // One pass, so a "//" inside a string or a quote inside a comment is read as what it is.
  const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"/g, " ");
  return [...code.matchAll(/(?:^|[\s}])(?:(?:private|global)\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*)/g)].map(
    (m) => m[1] as string,
  );
}

/**
 * Rule identifier → the name of the file that declares it (`shm-creation.yar`: its base name, not the server's
 * path). A name more than one file seems to declare (only a regular expression holding `rule x` can make it seem
 * so) is left out rather than guessed.
 */
export function ruleFilesOf(
  files: readonly { readonly path: string; readonly text: string }[],
): Record<string, string> {
  const found = new Map<string, string | null>();
  for (const file of files) {
    const name = path.basename(file.path);
    for (const rule of new Set(yaraRuleNames(file.text))) found.set(rule, found.has(rule) ? null : name);
  }
  const out: Record<string, string> = {};
  for (const [rule, file] of found) if (file !== null) out[rule] = file;
  return out;
}
