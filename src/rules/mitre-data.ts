/**
 * MITRE ATT&CK Enterprise facts that rule validation needs: tactic ids and names, and for each technique
 * the tactics it belongs to.
 *
 * Source: the MITRE ATT&CK Enterprise matrix, version 17 (attack.mitre.org, tactics TA0001–TA0043 and the
 * technique pages' "Tactics" field), transcribed by hand (facts, not code) for every technique and
 * sub-technique used by Elastic's Linux rules (shared/corpus/elastic-rules-linux) and by shmhunt's own rules.
 * Sub-techniques belong to their parent's tactics. The test suite checks that every tactic/technique pair in
 * that corpus (which Elastic validates against ATT&CK) is accepted here. A technique missing from this table
 * is reported as a warning (its fit cannot be checked), never silently accepted as a fit.
 */

export const TACTICS: Readonly<Record<string, string>> = {
  TA0043: "Reconnaissance",
  TA0042: "Resource Development",
  TA0001: "Initial Access",
  TA0002: "Execution",
  TA0003: "Persistence",
  TA0004: "Privilege Escalation",
  TA0005: "Defense Evasion",
  TA0006: "Credential Access",
  TA0007: "Discovery",
  TA0008: "Lateral Movement",
  TA0009: "Collection",
  TA0011: "Command and Control",
  TA0010: "Exfiltration",
  TA0040: "Impact",
};

/** `id|name|tactics` — one technique a line. */
const TECHNIQUE_ROWS = `
T1003|OS Credential Dumping|TA0006
T1005|Data from Local System|TA0009
T1006|Direct Volume Access|TA0005
T1014|Rootkit|TA0005
T1016|System Network Configuration Discovery|TA0007
T1018|Remote System Discovery|TA0007
T1021|Remote Services|TA0008
T1027|Obfuscated Files or Information|TA0005
T1030|Data Transfer Size Limits|TA0010
T1033|System Owner/User Discovery|TA0007
T1036|Masquerading|TA0005
T1037|Boot or Logon Initialization Scripts|TA0003,TA0004
T1040|Network Sniffing|TA0006,TA0007
T1041|Exfiltration Over C2 Channel|TA0010
T1046|Network Service Discovery|TA0007
T1048|Exfiltration Over Alternative Protocol|TA0010
T1049|System Network Connections Discovery|TA0007
T1053|Scheduled Task/Job|TA0002,TA0003,TA0004
T1055|Process Injection|TA0004,TA0005
T1056|Input Capture|TA0006,TA0009
T1057|Process Discovery|TA0007
T1059|Command and Scripting Interpreter|TA0002
T1068|Exploitation for Privilege Escalation|TA0004
T1069|Permission Groups Discovery|TA0007
T1070|Indicator Removal|TA0005
T1071|Application Layer Protocol|TA0011
T1074|Data Staged|TA0009
T1078|Valid Accounts|TA0001,TA0003,TA0004,TA0005
T1082|System Information Discovery|TA0007
T1083|File and Directory Discovery|TA0007
T1087|Account Discovery|TA0007
T1090|Proxy|TA0011
T1095|Non-Application Layer Protocol|TA0011
T1098|Account Manipulation|TA0003,TA0004
T1102|Web Service|TA0011
T1105|Ingress Tool Transfer|TA0011
T1106|Native API|TA0002
T1110|Brute Force|TA0006
T1113|Screen Capture|TA0009
T1115|Clipboard Data|TA0009
T1119|Automated Collection|TA0009
T1123|Audio Capture|TA0009
T1125|Video Capture|TA0009
T1129|Shared Modules|TA0002
T1132|Data Encoding|TA0011
T1133|External Remote Services|TA0001,TA0003
T1135|Network Share Discovery|TA0007
T1136|Create Account|TA0003
T1140|Deobfuscate/Decode Files or Information|TA0005
T1190|Exploit Public-Facing Application|TA0001
T1195|Supply Chain Compromise|TA0001
T1202|Indirect Command Execution|TA0005
T1203|Exploitation for Client Execution|TA0002
T1204|User Execution|TA0002
T1210|Exploitation of Remote Services|TA0008
T1211|Exploitation for Defense Evasion|TA0005
T1212|Exploitation for Credential Access|TA0006
T1213|Data from Information Repositories|TA0009
T1218|System Binary Proxy Execution|TA0005
T1219|Remote Access Tools|TA0011
T1222|File and Directory Permissions Modification|TA0005
T1480|Execution Guardrails|TA0005
T1485|Data Destruction|TA0040
T1486|Data Encrypted for Impact|TA0040
T1489|Service Stop|TA0040
T1496|Resource Hijacking|TA0040
T1497|Virtualization/Sandbox Evasion|TA0005,TA0007
T1498|Network Denial of Service|TA0040
T1505|Server Software Component|TA0003
T1518|Software Discovery|TA0007
T1528|Steal Application Access Token|TA0006
T1531|Account Access Removal|TA0040
T1542|Pre-OS Boot|TA0003,TA0005
T1543|Create or Modify System Process|TA0003,TA0004
T1546|Event Triggered Execution|TA0003,TA0004
T1547|Boot or Logon Autostart Execution|TA0003,TA0004
T1548|Abuse Elevation Control Mechanism|TA0004,TA0005
T1550|Use Alternate Authentication Material|TA0005,TA0008
T1552|Unsecured Credentials|TA0006
T1553|Subvert Trust Controls|TA0005
T1554|Compromise Host Software Binary|TA0003
T1556|Modify Authentication Process|TA0003,TA0005,TA0006
T1559|Inter-Process Communication|TA0002
T1560|Archive Collected Data|TA0009
T1562|Impair Defenses|TA0005
T1563|Remote Service Session Hijacking|TA0008
T1564|Hide Artifacts|TA0005
T1565|Data Manipulation|TA0040
T1567|Exfiltration Over Web Service|TA0010
T1568|Dynamic Resolution|TA0011
T1569|System Services|TA0002
T1570|Lateral Tool Transfer|TA0008
T1572|Protocol Tunneling|TA0011
T1573|Encrypted Channel|TA0011
T1574|Hijack Execution Flow|TA0003,TA0004,TA0005
T1595|Active Scanning|TA0043
T1601|Modify System Image|TA0005
T1609|Container Administration Command|TA0002
T1610|Deploy Container|TA0002,TA0005
T1611|Escape to Host|TA0004
T1613|Container and Resource Discovery|TA0007
T1620|Reflective Code Loading|TA0005
`;

/** `id|name` — one sub-technique a line; its tactics are its parent's. */
const SUBTECHNIQUE_ROWS = `
T1003.007|Proc Filesystem
T1003.008|/etc/passwd and /etc/shadow
T1021.004|SSH
T1027.010|Command Obfuscation
T1027.015|Compression
T1036.003|Rename Legitimate Utilities
T1036.004|Masquerade Task or Service
T1036.005|Match Legitimate Resource Name or Location
T1036.008|Masquerade File Type
T1036.009|Break Process Trees
T1037.004|RC Scripts
T1048.003|Exfiltration Over Unencrypted Non-C2 Protocol
T1053.002|At
T1053.003|Cron
T1053.006|Systemd Timers
T1053.007|Container Orchestration Job
T1055.008|Ptrace System Calls
T1059.004|Unix Shell
T1059.006|Python
T1059.011|Lua
T1069.001|Local Groups
T1069.002|Domain Groups
T1070.002|Clear Linux or Mac System Logs
T1070.003|Clear Command History
T1070.004|File Deletion
T1070.006|Timestomp
T1071.001|Web Protocols
T1071.004|DNS
T1074.001|Local Data Staging
T1078.003|Local Accounts
T1087.001|Local Account
T1087.002|Domain Account
T1090.001|Internal Proxy
T1090.002|External Proxy
T1090.003|Multi-hop Proxy
T1098.004|SSH Authorized Keys
T1098.007|Additional Local or Domain Groups
T1102.001|Dead Drop Resolver
T1102.002|Bidirectional Communication
T1110.001|Password Guessing
T1110.002|Password Cracking
T1110.003|Password Spraying
T1132.001|Standard Encoding
T1136.001|Local Account
T1195.001|Compromise Software Dependencies and Development Tools
T1195.002|Compromise Software Supply Chain
T1204.001|Malicious Link
T1204.002|Malicious File
T1204.004|Malicious Copy and Paste
T1222.002|Linux and Mac File and Directory Permissions Modification
T1480.002|Mutual Exclusion
T1496.001|Compute Hijacking
T1497.001|System Checks
T1505.003|Web Shell
T1518.001|Security Software Discovery
T1542.003|Bootkit
T1543.002|Systemd Service
T1543.005|Container Service
T1546.004|Unix Shell Configuration Modification
T1546.016|Installer Packages
T1546.017|Udev Rules
T1546.018|Python Startup Hooks
T1547.006|Kernel Modules and Extensions
T1547.013|XDG Autostart Entries
T1548.001|Setuid and Setgid
T1548.003|Sudo and Sudo Caching
T1552.001|Credentials In Files
T1552.004|Private Keys
T1552.007|Container API
T1553.004|Install Root Certificate
T1556.003|Pluggable Authentication Modules
T1560.001|Archive via Utility
T1562.001|Disable or Modify Tools
T1562.004|Disable or Modify System Firewall
T1562.006|Indicator Blocking
T1563.001|SSH Hijacking
T1564.001|Hidden Files and Directories
T1564.002|Hidden Users
T1565.001|Stored Data Manipulation
T1567.001|Exfiltration to Code Repository
T1567.002|Exfiltration to Cloud Storage
T1567.003|Exfiltration to Text Storage Sites
T1568.002|Domain Generation Algorithms
T1569.002|Service Execution
T1573.002|Asymmetric Cryptography
T1574.006|Dynamic Linker Hijacking
T1574.007|Path Interception by PATH Environment Variable
T1574.013|KernelCallbackTable
T1595.002|Vulnerability Scanning
T1595.003|Wordlist Scanning
T1601.001|Patch System Image
`;

interface TechniqueFacts {
  readonly name: string;
  readonly tactics: readonly string[];
}

function rows(text: string): string[][] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => line.split("|"));
}

export const TECHNIQUES: ReadonlyMap<string, TechniqueFacts> = new Map(
  rows(TECHNIQUE_ROWS).map(([id, name, tactics]) => [
    id ?? "",
    { name: name ?? "", tactics: (tactics ?? "").split(",") },
  ]),
);

export const SUBTECHNIQUES: ReadonlyMap<string, string> = new Map(
  rows(SUBTECHNIQUE_ROWS).map(([id, name]) => [id ?? "", name ?? ""]),
);
