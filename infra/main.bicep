// shmhunt on Azure: a Function App on the Flex Consumption plan (Linux, Node 22: Node 20 reached its end of life in
// April 2026 and Azure Functions follows Node's support dates) running as a user-assigned managed identity, its
// storage (host, deployment package, samples, state) with shared keys disabled, Application Insights with local auth
// disabled, and the roles the identity needs on the storage, the telemetry and the existing Microsoft Sentinel
// workspace, which may sit in another resource group or subscription.
//
// Deploy (resource group scope):
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json \
//     -p sentinelWorkspaceResourceId=<workspace resource id>
// Every parameter and output is described in docs/infra.md.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------- parameters

@description('Short name of the deployment: lower-case letters, digits and hyphens; prefixes every resource name.')
@minLength(2)
@maxLength(12)
param appName string = 'shmhunt'

@description('Azure region of the app resources (one offering the Flex Consumption plan).')
param location string = resourceGroup().location

@description('Resource id of the existing Log Analytics workspace with Microsoft Sentinel: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>.')
@minLength(124)
param sentinelWorkspaceResourceId string

@description('NCRONTAB schedule of the hunt timer: six space-separated fields, seconds first ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. 0 */5 * * * *. The template checks the number of fields only, and fails the deployment on any other count (a five-field cron line, a TimeSpan such as 00:05:00, which is for App Service plans only); each field itself is checked when the app loads its settings (SVC601). Each rule still runs on its own interval; the timer only decides how often rules are checked.')
param huntSchedule string = '0 */1 * * * *'

@description('Targets hunted, comma-separated: defender, asim, auditd (the data the workspace holds).')
param huntTargets string = 'defender'

@description('How far back a run reaches to cover missed windows: 0 (no further than each rule\'s own look-back), or a whole number and one unit, s, m, h or d, such as 24h; older ranges are reported as a gap. The template checks that form, and fails the deployment on any other (bare seconds, 1d12h, an ISO 8601 P1D, a TimeSpan).')
param maxCatchUp string = '24h'

@description('Server timeout of each Logs query, in seconds.')
@minValue(1)
@maxValue(600)
param queryTimeoutSeconds int = 120

@description('Largest sample accepted and scanned, in bytes (default 256 MiB).')
@minValue(1)
param maxSampleBytes int = 268435456

@description('Largest JSON request body, in bytes.')
@minValue(1024)
param maxBodyBytes int = 1048576

@description('YARA scan timeout per sample: a whole number and one unit, s, m, h or d, such as 60s or 5m. The template checks that form only, and fails the deployment on any other (bare seconds or milliseconds, 0, 1m30s, an ISO 8601 PT60S, a TimeSpan such as 00:01:00); the app checks at start that it is at most 24d (SVC601). YARA-X counts it in whole seconds.')
param scanTimeout string = '60s'

@description('Log level of the service (pino).')
@allowed([
  'fatal'
  'error'
  'warn'
  'info'
  'debug'
  'trace'
])
param logLevel string = 'info'

@description('Maximum number of instances (Flex Consumption: 1-1000, the lowest and highest values the plan accepts).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB (YARA scans of large samples want 2048 or more).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_LRS'

@description('Days deleted blobs (samples, packages) stay recoverable.')
@minValue(1)
@maxValue(365)
param blobDeleteRetentionDays int = 7

@description('Resource id of an existing Log Analytics workspace for the app telemetry; empty: a small one is created.')
param telemetryWorkspaceResourceId string = ''

@description('Retention of the created telemetry workspace, in days.')
@minValue(30)
@maxValue(730)
param telemetryRetentionInDays int = 30

@description('Role of the app identity on the Sentinel workspace. huntResponder: a custom role with only Logs queries, incidents (with their comments) and bookmarks (the content is deployed by the CI/CD principal). sentinelContributor: the built-in role, which the app\'s own deploy endpoint (POST /api/deploy) also needs.')
@allowed([
  'huntResponder'
  'sentinelContributor'
])
param appWorkspaceRole string = 'huntResponder'

@description('Object id of the CI/CD principal that runs `shmhunt deploy`: gets Microsoft Sentinel Contributor on the workspace. Empty: none.')
param contentDeployerPrincipalId string = ''

@description('Principal type of contentDeployerPrincipalId.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param contentDeployerPrincipalType string = 'ServicePrincipal'

@description('Deploy the Sentinel content as Bicep too (infra/content/content.bicep, generated from the rules), for teams that deploy content only through Bicep. Off: `shmhunt deploy` does it.')
param deployContent bool = false

@description('The sample broker (SHMHUNT_SAMPLE_BROKER): off, or defender to fetch the samples pending hits wait for through Defender for Endpoint live response. Its Defender API application permissions are granted by an admin (output defenderApiPermissionsForAdmin).')
@allowed([
  'off'
  'defender'
])
param sampleBroker string = 'off'

@description('Base URL of the Defender for Endpoint API (SHMHUNT_DEFENDER_URL), e.g. a regional endpoint (https://eu.api.security.microsoft.com).')
param defenderApiUrl string = 'https://api.securitycenter.microsoft.com'

@description('Tags applied to every resource created here.')
param tags object = {}

// -------------------------------------------------------------------------------------------------- names

// 13 characters, stable for a subscription, resource group and app name; keeps global names unique.
var suffix = uniqueString(subscription().id, resourceGroup().id, appName)
var names = {
  identity: '${appName}-id-${suffix}'
  storage: take(toLower(replace('st${appName}${suffix}', '-', '')), 24)
  plan: '${appName}-plan-${suffix}'
  functionApp: '${appName}-${suffix}'
  appInsights: '${appName}-ai-${suffix}'
  logAnalytics: '${appName}-log-${suffix}'
  eventGridTopic: '${appName}-blobs-${suffix}'
}

// The service's fixed storage names: functions/index.ts watches `samples/`; docs/service.md names the table.
var samplesContainerName = 'samples'
var deploymentContainerName = 'app-package'
var stateTableName = 'shmhuntstate'

// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>
var workspaceIdParts = split(sentinelWorkspaceResourceId, '/')
var workspaceSubscriptionId = workspaceIdParts[2]
var workspaceResourceGroup = workspaceIdParts[4]
var workspaceName = last(workspaceIdParts)

var allTags = union(tags, {
  application: 'shmhunt'
})

// ---------------------------------------------------------------------------------------------- resources

module identity 'modules/identity.bicep' = {
  name: '${appName}-identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: '${appName}-storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
    skuName: storageSku
    samplesContainerName: samplesContainerName
    deploymentContainerName: deploymentContainerName
    stateTableName: stateTableName
    principalId: identity.outputs.principalId
    blobDeleteRetentionDays: blobDeleteRetentionDays
    eventGridTopicName: names.eventGridTopic
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: '${appName}-monitoring'
  params: {
    appInsightsName: names.appInsights
    logAnalyticsName: names.logAnalytics
    existingWorkspaceResourceId: telemetryWorkspaceResourceId
    retentionInDays: telemetryRetentionInDays
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
  }
}

module sentinelAccess 'modules/sentinel-access.bicep' = {
  name: '${appName}-sentinel-${suffix}'
  scope: resourceGroup(workspaceSubscriptionId, workspaceResourceGroup)
  params: {
    workspaceName: workspaceName
    appPrincipalId: identity.outputs.principalId
    appWorkspaceRole: appWorkspaceRole
    contentDeployerPrincipalId: contentDeployerPrincipalId
    contentDeployerPrincipalType: contentDeployerPrincipalType
  }
}

// The hunt schedule's fields (spaces or tabs between them, as the app splits them), counted at deploy time: a value
// the app would refuse for its number of fields (src/app/ncrontab.ts) fails the deployment, naming the parameter,
// instead of deploying an app that then does not start. The grammar of each field is left to the app.
var huntScheduleFields = filter(split(huntSchedule, [' ', '\t']), field => !empty(field))
var checkedHuntSchedule = length(huntScheduleFields) == 6
  ? huntSchedule
  : fail('huntSchedule \'${huntSchedule}\' has ${length(huntScheduleFields)} field(s): it must be an NCRONTAB schedule of six space-separated fields, seconds first ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. 0 */5 * * * * (a five-field cron line lacks the seconds; a TimeSpan is for App Service plans only)')

// A duration's form as the app reads its duration settings (src/app/setting-duration.ts, with the rules' own
// parseDuration): a whole number without a leading zero (so not 0) and one unit, s, m, h or d. Each function here gives
// a value for any string (take and skip of a count under 1, contains case-sensitive), whatever is evaluated first.
func isDuration(text string) bool => contains(['s', 'm', 'h', 'd'], skip(text, length(text) - 1)) && !empty(take(text, length(text) - 1)) && !startsWith(take(text, length(text) - 1), '0') && empty(filter(split(take(text, length(text) - 1), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']), rest => !empty(rest)))

// The duration settings, checked at deploy time for their form: a value the app refuses at start (SVC601) fails the
// deployment, naming the parameter, instead of deploying an app that then does not start. The bounds (a scan timeout of
// at most 24d) are left to the app. The catch-up takes 0 (no catch-up past each rule's own look-back), as the app does;
// a scan always has a timeout.
var checkedScanTimeout = isDuration(scanTimeout)
  ? scanTimeout
  : fail('scanTimeout \'${scanTimeout}\' is not a duration the app takes: a whole number and one unit, s, m, h or d, such as 60s or 5m (at least 1s; not bare seconds, 0, 1m30s, PT60S or 00:01:00)')
var checkedMaxCatchUp = maxCatchUp == '0' || isDuration(maxCatchUp)
  ? maxCatchUp
  : fail('maxCatchUp \'${maxCatchUp}\' is not a duration the app takes: 0, or a whole number and one unit, s, m, h or d, such as 24h or 90m (not bare seconds, 1d12h, P1D or 1.00:00:00)')

// Setting names as src/app/config.ts reads them (docs/service.md lists each with its default).
var serviceSettings = {
  SHMHUNT_STORAGE_ACCOUNT: storage.outputs.name
  SHMHUNT_SAMPLES_CONTAINER: samplesContainerName
  SHMHUNT_STATE_TABLE: stateTableName
  SHMHUNT_WORKSPACE_ID: sentinelAccess.outputs.customerId
  SHMHUNT_SUBSCRIPTION_ID: workspaceSubscriptionId
  SHMHUNT_RESOURCE_GROUP: workspaceResourceGroup
  SHMHUNT_WORKSPACE_NAME: workspaceName
  SHMHUNT_HUNT_SCHEDULE: checkedHuntSchedule
  SHMHUNT_HUNT_TARGETS: huntTargets
  SHMHUNT_MAX_CATCH_UP: checkedMaxCatchUp
  SHMHUNT_QUERY_TIMEOUT_SECONDS: string(queryTimeoutSeconds)
  SHMHUNT_MAX_SAMPLE_BYTES: string(maxSampleBytes)
  SHMHUNT_MAX_BODY_BYTES: string(maxBodyBytes)
  SHMHUNT_SCAN_TIMEOUT: checkedScanTimeout
  SHMHUNT_LOG_LEVEL: logLevel
  SHMHUNT_SAMPLE_BROKER: sampleBroker
  SHMHUNT_DEFENDER_URL: defenderApiUrl
}

module functionApp 'modules/function-app.bicep' = {
  name: '${appName}-function-app'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: allTags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    serviceSettings: serviceSettings
    // The Functions host's own body limit must let through the largest body the service accepts.
    maxRequestBodyBytes: max(maxSampleBytes, maxBodyBytes)
  }
}

// Generated from the rules (see docs/infra.md, "Sentinel content as Bicep"); off unless asked for.
module content 'content/content.bicep' = if (deployContent) {
  name: '${appName}-content-${suffix}'
  scope: resourceGroup(workspaceSubscriptionId, workspaceResourceGroup)
  params: {
    workspaceName: workspaceName
  }
}

// ------------------------------------------------------------------------------------------------ outputs

@description('Name of the Function App: the target of `az functionapp deployment source config-zip`.')
output functionAppName string = functionApp.outputs.name

@description('Host name of the Function App (the HTTP API is under https://<host>/api).')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Name of the storage account (samples, state, host storage).')
output storageAccountName string = storage.outputs.name

@description('Container to upload samples to (the Event Grid trigger scans what arrives).')
output samplesContainerName string = storage.outputs.samplesContainerName

@description('Table holding the hunt state.')
output stateTableName string = storage.outputs.stateTableName

@description('Event Grid system topic of the storage account (infra/blob-events.bicep subscribes the Event Grid trigger to it).')
output eventGridTopicName string = storage.outputs.eventGridTopicName

@description('Client id of the app identity (AZURE_CLIENT_ID).')
output identityClientId string = identity.outputs.clientId

@description('Object id of the app identity, for extra role assignments.')
output identityPrincipalId string = identity.outputs.principalId

@description('Name of the Application Insights component.')
output appInsightsName string = monitoring.outputs.appInsightsName

@description('Role definition the app identity holds on the Sentinel workspace.')
output appWorkspaceRoleDefinitionId string = sentinelAccess.outputs.appRoleDefinitionId

@description('Workspace id (GUID) of the Sentinel workspace the hunts query.')
output sentinelWorkspaceId string = sentinelAccess.outputs.customerId

@description('Subscription, resource group and name of the Sentinel workspace, for `shmhunt deploy`.')
output sentinelWorkspace object = {
  subscriptionId: workspaceSubscriptionId
  resourceGroup: workspaceResourceGroup
  name: workspaceName
}

@description('Number of Sentinel content resources deployed as Bicep (0 when deployContent is off).')
output contentResourceCount int = deployContent ? content.outputs.resourceCount : 0

var defenderApi = loadJsonContent('roles.json').apiPermissions.defender

// Application permissions on the WindowsDefenderATP service principal are app role assignments in Microsoft Entra
// ID, which ARM cannot make: an admin grants them (docs/infra.md, "Sample broker permissions").
@description('What an admin must grant the app identity when sampleBroker is defender: app roles of the WindowsDefenderATP API (its appId from roles.json). Empty when the broker is off.')
output defenderApiPermissionsForAdmin object = sampleBroker == 'defender'
  ? {
      principalId: identity.outputs.principalId
      resourceAppId: defenderApi.resourceAppId
      appRoles: defenderApi.appRoles
    }
  : {}
