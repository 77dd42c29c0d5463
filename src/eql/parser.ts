/**
 * Recursive-descent parser for the Elasticsearch EQL dialect, producing the AST of ast.ts.
 *
 * Precedence follows Elasticsearch's grammar (EqlBase.g4): `or` < `and` < `not` < one comparison
 * (`== != < <= > >=`) < `+ -` < `* / %` < unary `- +` < a primary with its predicate
 * (`in`, `in~`, `not in`, `not in~`, `:`, `like`, `like~`, `regex`, `regex~`).
 */
import { Codes, combine, type Diagnostic, DiagnosticError, LineMap, type Span } from "../diagnostics/index.js";
import {
  childrenOf,
  type Duration,
  type EventFilter,
  type Expr,
  type FieldRef,
  type Literal,
  type Pipe,
  type Query,
  type SampleQuery,
  type SequenceQuery,
  type SequenceStep,
} from "./ast.js";
import { FUNCTIONS, isValidCidr, type ParamType } from "./functions.js";
import { describeToken, syntaxError, type Token, tokenize } from "./lexer.js";
import { luceneToRegExp } from "./patterns.js";

/** The largest `unsigned_long`, the widest integer type of Elasticsearch's EQL (2^64 - 1). */
const UNSIGNED_LONG_MAX = 2n ** 64n - 1n;

/**
 * Whether a number literal is an integer or a decimal, as Elasticsearch reads it (EQL's ExpressionBuilder
 * visitIntegerLiteral, through the ql StringUtils parseIntegral and parseDouble): an integer literal up to 2^64 - 1
 * is an exact integer (int, long, or unsigned_long past 2^63 - 1); a larger one is "Number [..] is too large" for
 * parseIntegral, and then "quietly" parsed as a double; a number past the double range is refused, "Number [..] is
 * too large". A JavaScript number holds an integer exactly only where a double does (every one up to 2^53, some
 * beyond): an integer literal Elasticsearch holds exactly and a double does not (9007199254740993) is refused
 * rather than rounded to another integer.
 */
function numberKind(token: Token): "integer" | "decimal" {
  const value = Number(token.text);
  if (!Number.isFinite(value)) throw syntaxError(Codes.EqlSyntax, `Number [${token.text}] is too large`, token.span);
  if (token.kind === "decimal") return "decimal";
  const exact = BigInt(token.text);
  if (exact > UNSIGNED_LONG_MAX) return "decimal";
  if (BigInt(value) !== exact) {
    throw syntaxError(
      Codes.EqlUnsupported,
      `integer [${token.text}] cannot be held exactly: Elasticsearch reads it as a 64-bit integer, and shmhunt ` +
        `holds a number as a double, exact for integers only up to 2^53 (and for some beyond)`,
      token.span,
    );
  }
  return "integer";
}

/** Parses one EQL query; throws a DiagnosticError (EQL1xx, with line and column) when it is not valid. */
export function parseEql(text: string): Query {
  return new Parser(text).parseStatement();
}

/** Parses one EQL query without throwing: the query, or null and the diagnostics. */
export function tryParseEql(text: string): { query: Query | null; diagnostics: readonly Diagnostic[] } {
  try {
    return { query: parseEql(text), diagnostics: [] };
  } catch (error) {
    if (error instanceof DiagnosticError) return { query: null, diagnostics: error.diagnostics };
    throw error;
  }
}

/** Parses a single EQL expression (a condition), as used in tests and tools. */
export function parseEqlExpression(text: string): Expr {
  const parser = new Parser(text);
  return parser.parseStandaloneExpression();
}

const COMPARISON_OPS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const MATCH_OPS = new Set([":", "like", "like~", "regex", "regex~"]);
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_RUNS = 100;
/**
 * The most stages a sequence may expand to (its steps' runs added up): each stage becomes a query of its own in
 * KQL, and 1,000 stages from a 370-character query took ~8 s of Kusto.Language on the server's thread.
 */
export const MAX_SEQUENCE_STAGES = 100;

/**
 * The deepest expression accepted: nesting (parentheses, `not`, unary minus, call arguments) and the depth of the
 * resulting tree. `and`/`or` chains are built balanced (depth log2 n), so a 2,000-term `or` is shallow; deeper
 * input is refused with EQL121 rather than exhausting the stack of the stages that walk the tree.
 */
export const MAX_EXPRESSION_DEPTH = 256;

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private nesting = 0;

  constructor(text: string) {
    this.tokens = tokenize(text, new LineMap(text));
  }

  // ── token helpers ──────────────────────────────────────────────────────────

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.pos++;
    return token;
  }

  private isKeyword(word: string, token = this.peek()): boolean {
    return token.kind === "keyword" && token.text === word;
  }

  private isOperator(op: string, token = this.peek()): boolean {
    return token.kind === "operator" && token.text === op;
  }

  private fail(expected: string, token = this.peek(), hint?: string): never {
    throw syntaxError(
      Codes.EqlUnexpectedToken,
      `expected ${expected} but found ${describeToken(token)}`,
      token.span,
      hint,
    );
  }

  private expectKeyword(word: string, hint?: string): Token {
    if (!this.isKeyword(word)) this.fail(`"${word}"`, this.peek(), hint);
    return this.next();
  }

  private expectOperator(op: string, expected = `"${op}"`): Token {
    if (!this.isOperator(op)) this.fail(expected);
    return this.next();
  }

  private error(code: string, message: string, span: Span, hint?: string): never {
    throw syntaxError(code, message, span, hint);
  }

  // ── statements ─────────────────────────────────────────────────────────────

  parseStatement(): Query {
    const first = this.peek();
    let query: Query;
    if (this.isKeyword("sequence")) query = this.parseSequence();
    else if (this.isKeyword("sample")) query = this.parseSample();
    else if (this.isKeyword("join")) {
      this.error(
        Codes.EqlUnsupported,
        "join is not supported by Elasticsearch EQL; use sequence or sample",
        first.span,
      );
    } else {
      const filter = this.parseEventFilter();
      query = { kind: "event", filter, pipes: [], span: filter.span };
    }
    const pipes = this.parsePipes();
    if (this.peek().kind !== "eof") {
      this.fail(query.kind === "event" ? 'an operator, "|" or end of query' : '"|" or end of query');
    }
    if (pipes.length === 0) return query;
    const span = combine(query.span, (pipes[pipes.length - 1] as Pipe).span);
    return { ...query, pipes, span };
  }

  parseStandaloneExpression(): Expr {
    const expr = this.parseExpression();
    if (this.peek().kind !== "eof") this.fail("an operator or end of expression");
    return expr;
  }

  private parseEventFilter(): EventFilter {
    const start = this.peek();
    let category: string | null;
    if (this.isKeyword("any")) {
      this.next();
      category = null;
    } else if (start.kind === "identifier" || start.kind === "string") {
      this.next();
      category = start.text;
    } else {
      this.fail('an event category, "any", "sequence" or "sample"');
    }
    this.expectKeyword("where");
    const condition = this.parseExpression();
    return { category, condition, span: combine(start.span, condition.span) };
  }

  private parseJoinKeys(): Expr[] {
    this.expectKeyword("by");
    const keys = [this.parseJoinKey()];
    while (this.isOperator(",")) {
      this.next();
      keys.push(this.parseJoinKey());
    }
    return keys;
  }

  private parseJoinKey(): Expr {
    const token = this.peek();
    const expr = this.parseExpression();
    if (expr.kind !== "field") {
      this.error(Codes.EqlUnsupported, "join keys must be field names", combine(token.span, expr.span));
    }
    return expr;
  }

  private parseSequence(): SequenceQuery {
    const start = this.next(); // sequence
    let by: Expr[] = [];
    let maxspan: Duration | null = null;
    if (this.isKeyword("by")) by = this.parseJoinKeys();
    if (this.isKeyword("with")) {
      this.next();
      const key = this.peek();
      if (!this.isKeyword("maxspan")) this.fail('"maxspan"');
      this.next();
      this.expectOperator("=");
      maxspan = this.parseDuration(key);
      if (this.isKeyword("by")) {
        this.error(Codes.EqlSyntax, "please specify sequence [by] before [with] not after", this.peek().span);
      }
    }
    const steps: SequenceStep[] = [];
    while (this.isOperator("[") || this.isOperator("![")) steps.push(this.parseStep(true));
    if (steps.length === 0) this.fail('"[" or "![" to start a sequence step');
    let until: SequenceStep | null = null;
    if (this.isKeyword("until")) {
      this.next();
      if (this.isOperator("![")) this.error(Codes.EqlSyntax, "until cannot be a missing event", this.peek().span);
      until = this.parseStep(false);
      if (until.runs !== 1) this.error(Codes.EqlSyntax, "until cannot use [with runs]", until.span);
    }
    const last = until ?? (steps[steps.length - 1] as SequenceStep);
    const span = combine(start.span, last.span);
    const stages = steps.reduce((n, s) => n + s.runs, 0);
    if (stages > MAX_SEQUENCE_STAGES) {
      this.error(
        Codes.EqlTooDeep,
        `a sequence of ${stages} stages (its steps' runs added up) is over the limit of ${MAX_SEQUENCE_STAGES}`,
        span,
        "split the sequence into rules of their own",
      );
    }
    if (stages < 2) {
      this.error(Codes.EqlSyntax, `a sequence requires a minimum of 2 queries, found [${stages}]`, span);
    }
    if (steps.every((s) => s.missing)) {
      this.error(Codes.EqlSyntax, "a sequence requires at least one positive event query (not only ![...])", span);
    }
    if (steps.some((s) => s.missing) && maxspan === null) {
      this.error(Codes.EqlSyntax, "[with maxspan] is required for sequences with missing events ![...]", span);
    }
    this.checkKeyCounts(by, until ? [...steps, until] : steps);
    return { kind: "sequence", by, maxspan, steps, until, pipes: [], span };
  }

  private parseSample(): SampleQuery {
    const start = this.next(); // sample
    const by = this.isKeyword("by") ? this.parseJoinKeys() : [];
    const steps: SequenceStep[] = [];
    while (this.isOperator("[") || this.isOperator("![")) {
      if (this.isOperator("!["))
        this.error(Codes.EqlSyntax, "samples cannot have missing events ![...]", this.peek().span);
      const step = this.parseStep(false);
      if (step.runs !== 1) this.error(Codes.EqlSyntax, "samples cannot use [with runs]", step.span);
      steps.push(step);
    }
    if (steps.length === 0) this.fail('"[" to start a sample step');
    const span = combine(start.span, (steps[steps.length - 1] as SequenceStep).span);
    if (steps.length < 2)
      this.error(Codes.EqlSyntax, `a sample requires a minimum of 2 queries, found [${steps.length}]`, span);
    this.checkKeyCounts(by, steps);
    return { kind: "sample", by, steps, pipes: [], span };
  }

  private checkKeyCounts(by: readonly Expr[], steps: readonly SequenceStep[]): void {
    const expected = (steps[0] as SequenceStep).by.length;
    for (const step of steps) {
      if (step.by.length !== expected) {
        this.error(
          Codes.EqlSyntax,
          `inconsistent number of join keys specified; expected [${by.length + expected}] but found [${by.length + step.by.length}]`,
          step.span,
        );
      }
    }
  }

  private parseStep(allowRuns: boolean): SequenceStep {
    const open = this.next(); // [ or ![
    const missing = open.text === "![";
    const filter = this.parseEventFilter();
    const close = this.expectOperator("]", '"]" to close the step');
    let span = combine(open.span, close.span);
    let by: Expr[] = [];
    if (this.isKeyword("by")) {
      by = this.parseJoinKeys();
      span = combine(span, (by[by.length - 1] as Expr).span);
    }
    let runs = 1;
    if (this.isKeyword("with") && allowRuns) {
      this.next();
      const key = this.peek();
      if (key.kind !== "identifier" || key.text !== "runs") this.fail('"runs"');
      this.next();
      this.expectOperator("=");
      const value = this.peek();
      if (value.kind !== "integer") this.fail("a whole number of runs");
      this.next();
      runs = Number(value.text);
      if (runs < 1 || runs > MAX_RUNS) {
        this.error(Codes.EqlSyntax, `runs must be between 1 and ${MAX_RUNS}, found [${value.text}]`, value.span);
      }
      span = combine(span, value.span);
    }
    return { filter, by, runs, missing, span };
  }

  private parseDuration(at: Token): Duration {
    const number = this.peek();
    if (number.kind !== "integer") this.fail("a time span such as 5m", number);
    this.next();
    const unitToken = this.peek();
    const value = Number(number.text);
    if (unitToken.kind !== "identifier" || unitToken.span.start.offset !== number.span.end.offset) {
      this.error(
        Codes.EqlSyntax,
        `no time unit specified, did you mean [s] as in [${number.text}s]?`,
        number.span,
        "units: ms, s, m, h, d",
      );
    }
    // an own key only: `constructor`, `toString`… are Object.prototype's, not units
    const factor = Object.hasOwn(DURATION_UNITS, unitToken.text) ? DURATION_UNITS[unitToken.text] : undefined;
    if (factor === undefined) {
      this.error(
        Codes.EqlSyntax,
        `unknown time unit [${unitToken.text}]; expected one of ms, s, m, h, d`,
        unitToken.span,
      );
    }
    this.next();
    if (value <= 0) this.error(Codes.EqlSyntax, "maxspan must be positive", combine(at.span, unitToken.span));
    return {
      value,
      unit: unitToken.text as Duration["unit"],
      milliseconds: value * factor,
      span: combine(number.span, unitToken.span),
    };
  }

  private parsePipes(): Pipe[] {
    const pipes: Pipe[] = [];
    while (this.isOperator("|")) {
      const bar = this.next();
      const name = this.peek();
      if (name.kind !== "identifier") this.fail('a pipe name ("head" or "tail")');
      this.next();
      if (name.text !== "head" && name.text !== "tail") {
        this.error(
          Codes.EqlUnsupported,
          `pipe [${name.text}] is not supported by Elasticsearch EQL; use head or tail`,
          name.span,
        );
      }
      let count = 10;
      let end = name.span;
      const arg = this.peek();
      if (arg.kind === "integer") {
        this.next();
        count = Number(arg.text);
        end = arg.span;
      } else if (arg.kind !== "eof" && !this.isOperator("|")) {
        this.fail(`a whole number after "${name.text}"`, arg);
      }
      pipes.push({ kind: name.text, count, span: combine(bar.span, end) });
    }
    return pipes;
  }

  // ── expressions ────────────────────────────────────────────────────────────

  /** A full expression, its tree depth checked (see MAX_EXPRESSION_DEPTH). */
  private parseExpression(): Expr {
    const start = this.peek();
    const expr = this.nested(start, () => this.parseOr());
    if (this.nesting === 0 && treeDepth(expr) > MAX_EXPRESSION_DEPTH) this.tooDeep(start);
    return expr;
  }

  private parseOr(): Expr {
    const operands = [this.parseAnd()];
    while (this.isKeyword("or")) {
      this.next();
      operands.push(this.parseAnd());
    }
    return balanced("or", operands);
  }

  private parseAnd(): Expr {
    const operands = [this.parseNot()];
    while (this.isKeyword("and")) {
      this.next();
      operands.push(this.parseNot());
    }
    return balanced("and", operands);
  }

  /** Runs a recursive descent one level deeper, refusing input nested deeper than MAX_EXPRESSION_DEPTH. */
  private nested<T>(at: Token, parse: () => T): T {
    if (this.nesting >= MAX_EXPRESSION_DEPTH) this.tooDeep(at);
    this.nesting++;
    try {
      return parse();
    } finally {
      this.nesting--;
    }
  }

  private tooDeep(at: Token): never {
    return this.error(
      Codes.EqlTooDeep,
      `expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels`,
      at.span,
      "split the condition or remove redundant parentheses",
    );
  }

  private parseNot(): Expr {
    if (this.isKeyword("not")) {
      const not = this.next();
      const operand = this.nested(not, () => this.parseNot());
      return { kind: "not", operand, span: combine(not.span, operand.span) };
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parseAdditive();
    const op = this.peek();
    if (op.kind === "operator" && COMPARISON_OPS.has(op.text)) {
      this.next();
      const right = this.parseAdditive();
      return {
        kind: "comparison",
        op: op.text as "==" | "!=" | "<" | "<=" | ">" | ">=",
        left,
        right,
        span: combine(left.span, right.span),
      };
    }
    if (this.isOperator("=")) {
      this.error(Codes.EqlSyntax, 'unexpected "=": use "==" for equality', op.span);
    }
    return left;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isOperator("+") || this.isOperator("-")) {
      const op = this.next().text as "+" | "-";
      const right = this.parseMultiplicative();
      left = { kind: "arithmetic", op, left, right, span: combine(left.span, right.span) };
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isOperator("*") || this.isOperator("/") || this.isOperator("%")) {
      const op = this.next().text as "*" | "/" | "%";
      const right = this.parseUnary();
      left = { kind: "arithmetic", op, left, right, span: combine(left.span, right.span) };
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isOperator("-") || this.isOperator("+")) {
      const op = this.next();
      const operand = this.nested(op, () => this.parseUnary());
      if (op.text === "+") return operand;
      const span = combine(op.span, operand.span);
      if (operand.kind === "literal" && typeof operand.value === "number") {
        return { ...operand, value: -operand.value, span };
      }
      return { kind: "negate", operand, span };
    }
    return this.parsePredicate(this.parsePrimary());
  }

  private parsePredicate(left: Expr): Expr {
    const token = this.peek();
    if (this.isKeyword("not") || this.isKeyword("in") || this.isOperator("in~")) {
      let negated = false;
      if (this.isKeyword("not")) {
        this.next();
        negated = true;
        if (!this.isKeyword("in") && !this.isOperator("in~")) this.fail('"in" or "in~" after "not"');
      }
      const op = this.next();
      this.expectOperator("(", `"(" after "${op.text}"`);
      const values = [this.parseExpression()];
      while (this.isOperator(",")) {
        this.next();
        values.push(this.parseExpression());
      }
      const close = this.expectOperator(")", '"," or ")"');
      return {
        kind: "in",
        negated,
        caseInsensitive: op.text === "in~",
        left,
        values,
        span: combine(left.span, combine(token.span, close.span)),
      };
    }
    const isMatch = (token.kind === "operator" || token.kind === "keyword") && MATCH_OPS.has(token.text);
    if (!isMatch) return left;
    this.next();
    const patterns: Expr[] = [];
    let end: Span;
    if (this.isOperator("(")) {
      this.next();
      patterns.push(this.parseConstant(token.text));
      while (this.isOperator(",")) {
        this.next();
        patterns.push(this.parseConstant(token.text));
      }
      end = this.expectOperator(")", '"," or ")"').span;
    } else {
      const pattern = this.parseConstant(token.text);
      patterns.push(pattern);
      end = pattern.span;
    }
    const base = token.text.replace("~", "") as ":" | "like" | "regex";
    if (base === "regex") {
      // refuse now, with the pattern's position, what cannot be translated
      for (const p of patterns) {
        if (p.kind === "literal" && typeof p.value === "string")
          luceneToRegExp(p.value, token.text.endsWith("~"), p.span);
      }
    }
    return {
      kind: "match",
      op: base,
      caseInsensitive: base === ":" || token.text.endsWith("~"),
      left,
      patterns,
      span: combine(left.span, end),
    };
  }

  /** A constant after `:`, `like` or `regex` (Elasticsearch accepts only constants there). */
  private parseConstant(op: string): Literal {
    const token = this.peek();
    const negative = this.isOperator("-");
    if (negative) this.next();
    const literal = this.parseLiteral();
    if (!literal || (negative && typeof literal.value !== "number")) {
      this.fail(`a constant (string, number, boolean or null) after "${op}"`, token);
    }
    if ((op.startsWith("like") || op.startsWith("regex")) && typeof literal.value !== "string") {
      this.error(Codes.EqlBadArgument, `the pattern of "${op}" must be a string`, literal.span);
    }
    if (negative) return { ...literal, value: -(literal.value as number), span: combine(token.span, literal.span) };
    return literal;
  }

  private parseLiteral(): Literal | null {
    const token = this.peek();
    switch (token.kind) {
      case "string":
        this.next();
        return { kind: "literal", value: token.text, span: token.span };
      case "integer":
      case "decimal": {
        this.next();
        return { kind: "literal", value: Number(token.text), numberKind: numberKind(token), span: token.span };
      }
      case "keyword":
        if (token.text === "true" || token.text === "false" || token.text === "null") {
          this.next();
          return { kind: "literal", value: token.text === "null" ? null : token.text === "true", span: token.span };
        }
        return null;
      default:
        return null;
    }
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    const literal = this.parseLiteral();
    if (literal) return literal;
    if (this.isOperator("(")) {
      this.next();
      const inner = this.parseExpression();
      const close = this.expectOperator(")", '")"');
      return { ...inner, span: combine(token.span, close.span) };
    }
    if ((token.kind === "identifier" && !token.quoted) || token.kind === "tildeIdentifier") {
      if (this.isOperator("(", this.peek(1))) return this.parseCall();
      if (token.kind === "tildeIdentifier") this.fail(`"(" after function name ${token.raw}`, this.peek(1));
    }
    if (this.isKeyword("of", this.peek(1)) && token.kind === "identifier") {
      this.error(Codes.EqlUnsupported, "process lineage (descendant/child/event of) is not supported", token.span);
    }
    if (token.kind === "identifier" || this.isOperator("?")) return this.parseField();
    return this.fail("an expression (field, literal, function call or parenthesis)");
  }

  private parseField(): FieldRef {
    let optional = false;
    const start = this.peek();
    if (this.isOperator("?")) {
      this.next();
      optional = true;
      if (this.peek().kind !== "identifier") this.fail('a field name after "?"');
    }
    const first = this.next();
    if (first.kind !== "identifier") this.fail("a field name", first);
    const parts = [first.text];
    let end = first.span;
    for (;;) {
      if (this.isOperator(".")) {
        this.next();
        const part = this.peek();
        // keywords are accepted after a dot (`event.sequence`): there they cannot be anything else
        if (part.kind !== "identifier" && part.kind !== "keyword") this.fail('a field name after "."', part);
        this.next();
        parts.push(part.text);
        end = part.span;
        continue;
      }
      if (this.isOperator("[") && this.peek(1).kind === "integer") {
        this.error(Codes.EqlUnsupported, "array indexes in field names are not supported", this.peek().span);
      }
      break;
    }
    return { kind: "field", name: parts.join("."), optional, span: combine(start.span, end) };
  }

  private parseCall(): Expr {
    const nameToken = this.next();
    const lower = nameToken.text.toLowerCase();
    const signature = FUNCTIONS.get(lower);
    const caseInsensitive = nameToken.kind === "tildeIdentifier";
    if (!signature) {
      this.error(
        Codes.EqlUnknownFunction,
        `unknown function [${nameToken.raw}]`,
        nameToken.span,
        `functions: ${[...FUNCTIONS.values()].map((f) => f.name).join(", ")}`,
      );
    }
    if (caseInsensitive && !signature.caseInsensitiveVariant) {
      this.error(
        Codes.EqlUnknownFunction,
        `function [${signature.name}] has no case-insensitive variant [${nameToken.raw}]`,
        nameToken.span,
      );
    }
    this.expectOperator("(");
    const args: Expr[] = [];
    if (!this.isOperator(")")) {
      args.push(this.parseExpression());
      while (this.isOperator(",")) {
        this.next();
        args.push(this.parseExpression());
      }
    }
    const close = this.expectOperator(")", '"," or ")"');
    const span = combine(nameToken.span, close.span);
    if (args.length < signature.minArgs || args.length > signature.maxArgs) {
      const range =
        signature.maxArgs === Number.POSITIVE_INFINITY
          ? `at least ${signature.minArgs}`
          : signature.minArgs === signature.maxArgs
            ? `${signature.minArgs}`
            : `${signature.minArgs} to ${signature.maxArgs}`;
      this.error(
        Codes.EqlBadArity,
        `function [${signature.name}] takes ${range} argument${range === "1" ? "" : "s"}, found [${args.length}]`,
        span,
      );
    }
    args.forEach((arg, i) => {
      this.checkArgument(signature.name, arg, i, signature.params, signature.constantParams);
    });
    return { kind: "call", name: lower, caseInsensitive, args, span };
  }

  private checkArgument(
    fn: string,
    arg: Expr,
    index: number,
    params: readonly ParamType[],
    constantParams: readonly number[] | undefined,
  ): void {
    const type = params[Math.min(index, params.length - 1)] as ParamType;
    const position = `argument ${index + 1} of [${fn}]`;
    if (constantParams?.includes(index) && arg.kind !== "literal") {
      this.error(Codes.EqlBadArgument, `${position} must be a constant`, arg.span);
    }
    if (arg.kind !== "literal" || arg.value === null) return;
    const value = arg.value;
    const ok =
      type === "any" ||
      (type === "string" && typeof value === "string") ||
      (type === "number" && typeof value === "number") ||
      // a decimal literal is a double to Elasticsearch, never an integer (`2.0`, `1e21`, and an integer literal
      // past 2^64 - 1): its type check (TypeResolutions.isInteger) refuses it
      (type === "integer" && typeof value === "number" && arg.numberKind === "integer") ||
      (type === "boolean" && typeof value === "boolean");
    if (!ok) {
      this.error(
        Codes.EqlBadArgument,
        `${position} must be ${type === "integer" ? "an integer" : `a ${type}`}`,
        arg.span,
      );
    }
    if (fn === "cidrMatch" && index > 0 && typeof value === "string" && !isValidCidr(value)) {
      this.error(Codes.EqlBadArgument, `${position} is not a valid CIDR block [${value}]`, arg.span);
    }
    if (fn === "number" && index === 1 && typeof value === "number" && (value < 2 || value > 36)) {
      this.error(Codes.EqlBadArgument, `${position}: base must be between 2 and 36`, arg.span);
    }
  }
}

/**
 * `a or b or c …` as a balanced tree (left-deep for up to three operands, as written): `and` and `or` are
 * associative, so the shape does not change the meaning, and a long chain stays log2(n) deep.
 */
function balanced(op: "and" | "or", operands: readonly Expr[], from = 0, to = operands.length): Expr {
  if (to - from === 1) return operands[from] as Expr;
  const mid = from + Math.ceil((to - from) / 2);
  const left = balanced(op, operands, from, mid);
  const right = balanced(op, operands, mid, to);
  return { kind: "logical", op, left, right, span: combine(left.span, right.span) };
}

/** The depth of an expression tree, walked without recursion. */
function treeDepth(root: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[root, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [e, d] = item;
    if (d > max) max = d;
    for (const child of childrenOf(e)) stack.push([child, d + 1]);
  }
  return max;
}
