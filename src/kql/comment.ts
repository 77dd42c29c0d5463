/**
 * Text from outside (a rule's name, an approximation note quoting a rule's values) as a KQL `//` comment: every
 * character that could end the comment is made a space, so none of the text reaches the query. Kusto.Language ends a
 * comment at CR and LF and also at U+2028 and U+2029 (test/kql/comment.test.ts checks each with the parser); VT,
 * FF and NEL go too.
 */
const LINE_BREAKS = /[\r\n\u000b\u000c\u0085\u2028\u2029]/g;

/** The text on one line: each line break (as above) a space. */
export function oneLine(text: string): string {
  return text.replace(LINE_BREAKS, " ");
}

export function kqlComment(text: string): string {
  return `// ${oneLine(text)}`;
}
