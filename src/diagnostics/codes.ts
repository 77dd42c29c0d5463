/**
 * Every diagnostic code in one place, by stage. Codes are stable: tests and users may match on them.
 * Add new codes at the end of their block; never reuse a retired one.
 */
export const Codes = {
  // EQL front end (EQL1xx)
  EqlSyntax: "EQL100",
  EqlUnexpectedToken: "EQL101",
  EqlUnterminatedString: "EQL102",
  EqlBadEscape: "EQL103",
  EqlUnknownFunction: "EQL110",
  EqlBadArity: "EQL111",
  EqlBadArgument: "EQL112",
  EqlUnsupported: "EQL120",
  EqlTooDeep: "EQL121",

  // Rule files (RULE2xx)
  RuleToml: "RULE200",
  RuleUnknownKey: "RULE201",
  RuleMissingField: "RULE202",
  RuleBadValue: "RULE203",
  RuleBadUuid: "RULE204",
  RuleThreatMismatch: "RULE205",
  RuleDuplicateId: "RULE206",
  RuleQuery: "RULE207",
  RuleServiceLimit: "RULE208",

  // Translation to KQL (KQL3xx)
  KqlRefusedField: "KQL300",
  KqlRefusedConstruct: "KQL301",
  KqlApproximation: "KQL302",
  KqlInvalid: "KQL310",
  KqlStale: "KQL320",

  // YARA (YARA4xx)
  YaraCompile: "YARA400",
  YaraScan: "YARA410",
  YaraLimit: "YARA411",
  YaraCompileWarning: "YARA401",

  // Local workspace engine (WS5xx)
  WsUnsupported: "WS500",
  WsSemantic: "WS501",
  WsData: "WS502",

  // Service (SVC6xx)
  SvcAzure: "SVC600",
  SvcConfig: "SVC601",
} as const;

export type Code = (typeof Codes)[keyof typeof Codes];
