// Application Insights for the Function App, workspace-based, with local (instrumentation-key) authentication
// disabled: telemetry is accepted only with a Microsoft Entra token of the app's identity, which gets
// Monitoring Metrics Publisher on the component. The telemetry goes to a small workspace of its own, not to the
// Sentinel workspace (whose ingestion is billed at Sentinel rates), unless one is given.

@description('Name of the Application Insights component (1-260 characters).')
@minLength(1)
@maxLength(260)
param appInsightsName string

@description('Name of the Log Analytics workspace created for the telemetry (4-63 characters).')
@minLength(4)
@maxLength(63)
param logAnalyticsName string

@description('Resource id of an existing Log Analytics workspace for the telemetry; empty: create one.')
param existingWorkspaceResourceId string

@description('Days the telemetry workspace keeps data.')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Azure region.')
param location string

@description('Tags applied to the resources.')
param tags object

@description('Principal id of the app identity that publishes telemetry.')
param principalId string

var roles = loadJsonContent('../roles.json').roles
var createWorkspace = empty(existingWorkspaceResourceId)

resource telemetryWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (createWorkspace) {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
      enableLogAccessUsingOnlyResourcePermissions: true
    }
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: createWorkspace ? telemetryWorkspace.id : existingWorkspaceResourceId
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher.id)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Name of the Application Insights component.')
output appInsightsName string = appInsights.name

@description('Connection string of the component (holds no secret: local auth is disabled, ingestion needs an Entra token).')
output connectionString string = appInsights.properties.ConnectionString

@description('Resource id of the workspace receiving the telemetry.')
output workspaceResourceId string = appInsights.properties.WorkspaceResourceId
