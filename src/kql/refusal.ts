/**
 * Why a rule cannot be translated for a target. A refusal always names the ECS field or the EQL construct at fault,
 * so reports can group refusals by reason.
 */
export type RefusalKind = "field" | "construct";

export class Refusal extends Error {
  /**
   * @param kind `field`: an ECS field (or one of its values) has no counterpart on the target; `construct`: an EQL
   *   construct has no faithful KQL form.
   * @param subject The field name or a short name of the construct (`sequence until`, `regex complement`).
   * @param detail A sentence for people.
   */
  constructor(
    readonly kind: RefusalKind,
    readonly subject: string,
    readonly detail: string = subject,
  ) {
    super(kind === "field" ? `field '${subject}': ${detail}` : `${subject}: ${detail}`);
    this.name = "Refusal";
  }

  /** The grouping key of a report: `field process.working_directory` or `construct sequence until`. */
  get reason(): string {
    return `${this.kind} ${this.subject}`;
  }
}

export type TranslationRefusedCode = "TRANSLATION_REFUSED";

/**
 * A translation asked of the translate service that the target cannot express: a typed value with a stable code,
 * so a caller (src/app/errors.ts: HTTP 422) classifies it without reading the message.
 */
export class TranslationRefusedError extends Error {
  readonly code: TranslationRefusedCode = "TRANSLATION_REFUSED";
  /**
   * @param target The target the query was refused for.
   * @param reason Why, naming the field or construct (a Refusal's message).
   */
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(`refused for ${target}: ${reason}`);
    this.name = "TranslationRefusedError";
  }
}
