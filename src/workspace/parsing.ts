/** regex_quote, parse_command_line (Windows rules) and parse_path, per their Kusto docs pages. */

/** Escapes every regex metacharacter (RE2 syntax). */
export function regexQuote(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/** Splits a command line as CommandLineToArgvW does (the only parser type Kusto supports: "windows"). */
export function parseWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  // The program name: up to the closing quote, or the first whitespace; no backslash processing.
  while (i < n && /\s/.test(line[i] as string)) i++;
  if (i >= n) return args;
  let prog = "";
  if (line[i] === '"') {
    i++;
    while (i < n && line[i] !== '"') prog += line[i++];
    i++;
  } else {
    while (i < n && !/\s/.test(line[i] as string)) prog += line[i++];
  }
  args.push(prog);
  for (;;) {
    while (i < n && /\s/.test(line[i] as string)) i++;
    if (i >= n) break;
    let arg = "";
    let quoted = false;
    while (i < n) {
      const ch = line[i] as string;
      if (ch === "\\") {
        let slashes = 0;
        while (i < n && line[i] === "\\") {
          slashes++;
          i++;
        }
        if (line[i] === '"') {
          arg += "\\".repeat(Math.floor(slashes / 2));
          if (slashes % 2 === 1) {
            arg += '"';
            i++;
          }
        } else arg += "\\".repeat(slashes);
        continue;
      }
      if (ch === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        i++;
        continue;
      }
      if (!quoted && /\s/.test(ch)) break;
      arg += ch;
      i++;
    }
    args.push(arg);
  }
  return args;
}

export interface PathParts {
  Scheme: string;
  RootPath: string;
  DirectoryPath: string;
  DirectoryName: string;
  Filename: string;
  Extension: string;
  AlternateDataStreamName: string;
}

/** The components of a file path (Windows, UNC, POSIX, or a URI with a scheme). */
export function parsePath(path: string): PathParts {
  let rest = path;
  let scheme = "";
  const s = /^([A-Za-z][\w+.-]*):\/\//.exec(rest);
  if (s) {
    scheme = s[1] as string;
    rest = rest.slice(s[0].length);
  }
  const root = /^[A-Za-z]:/.exec(rest)?.[0] ?? "";
  const cut = Math.max(rest.lastIndexOf("/"), rest.lastIndexOf("\\"));
  const dir = cut >= 0 ? rest.slice(0, cut) : "";
  let file = cut >= 0 ? rest.slice(cut + 1) : rest;
  let ads = "";
  const colon = file.indexOf(":");
  if (colon >= 0 && !(cut < 0 && root && colon === 1)) {
    ads = file.slice(colon + 1);
    file = file.slice(0, colon);
  }
  const dcut = Math.max(dir.lastIndexOf("/"), dir.lastIndexOf("\\"));
  const dirName = dcut >= 0 ? dir.slice(dcut + 1) : dir;
  const dot = file.lastIndexOf(".");
  return {
    Scheme: scheme,
    RootPath: root,
    DirectoryPath: dir,
    DirectoryName: dirName === root ? "" : dirName,
    Filename: file,
    Extension: dot >= 0 ? file.slice(dot + 1) : "",
    AlternateDataStreamName: ads,
  };
}
