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
