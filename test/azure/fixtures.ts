/** Request bodies shared by the SDK tests, modelled on the service's own examples (shared/reference/azure-wire). */
import type { ScheduledAlertRule } from "@azure/arm-securityinsight";
import type { WorkspaceState } from "../emulator/state.js";

/** Seeds a Syslog table (columns from schemas/) with a few auditd-looking rows, relative to `now`. */
export function seedSyslog(workspace: WorkspaceState, now = Date.now()): void {
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  workspace.seedTable("Syslog", [
    {
      TimeGenerated: at(2),
      Computer: "web-01",
      Facility: "authpriv",
      SyslogMessage: "type=SYSCALL syscall=29 key=shm",
      ProcessName: "auditd",
    },
    {
      TimeGenerated: at(30),
      Computer: "web-02",
      Facility: "authpriv",
      SyslogMessage: "type=EXECVE a0=/dev/shm/x",
      ProcessName: "auditd",
    },
    {
      TimeGenerated: at(600),
      Computer: "db-01",
      Facility: "cron",
      SyslogMessage: "CRON[1]: session opened",
      ProcessName: "CRON",
    },
  ]);
}

export function scheduledRule(overrides: Partial<ScheduledAlertRule> = {}): ScheduledAlertRule {
  return {
    kind: "Scheduled",
    displayName: "Binary executed from shared memory",
    description: "shmhunt test rule",
    severity: "High",
    enabled: true,
    tactics: ["Execution"],
    techniques: ["T1059"],
    query: 'Syslog | where SyslogMessage has "shm"',
    queryFrequency: "PT5M",
    queryPeriod: "PT9M",
    triggerOperator: "GreaterThan",
    triggerThreshold: 0,
    suppressionDuration: "PT1H",
    suppressionEnabled: false,
    eventGroupingSettings: { aggregationKind: "AlertPerResult" },
    entityMappings: [{ entityType: "Host", fieldMappings: [{ identifier: "HostName", columnName: "Computer" }] }],
    incidentConfiguration: {
      createIncident: true,
      groupingConfiguration: {
        enabled: false,
        reopenClosedIncident: false,
        lookbackDuration: "PT5H",
        matchingMethod: "AllEntities",
      },
    },
    ...overrides,
  };
}

/** Collects every item of an SDK pager (following nextLink). */
export async function all<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}
