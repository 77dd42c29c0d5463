/** A position in a source text: 1-based line and column, 0-based character offset. */
export interface Position {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

/** A half-open range [start, end) of a source text. Every AST node and every diagnostic carries one. */
export interface Span {
  readonly start: Position;
  readonly end: Position;
}

/** The smallest span covering both. */
export function combine(a: Span, b: Span): Span {
  return {
    start: a.start.offset <= b.start.offset ? a.start : b.start,
    end: a.end.offset >= b.end.offset ? a.end : b.end,
  };
}

/** Maps character offsets of a text to line/column positions (binary search over line starts). */
export class LineMap {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] as number) + 1, offset };
  }

  span(startOffset: number, endOffset: number): Span {
    return { start: this.position(startOffset), end: this.position(endOffset) };
  }
}

/** Shifts a span found in an embedded text (a query inside a TOML string) to the enclosing file's coordinates. */
export function shiftSpan(inner: Span, origin: Position): Span {
  const shift = (p: Position): Position =>
    p.line === 1
      ? { line: origin.line, column: origin.column + p.column - 1, offset: origin.offset + p.offset }
      : { line: origin.line + p.line - 1, column: p.column, offset: origin.offset + p.offset };
  return { start: shift(inner.start), end: shift(inner.end) };
}
