// Deployed into the Sentinel workspace's resource group (which may differ from the app's): the role the app
// needs on the workspace, and the workspace facts the app settings need. Everything is scoped to the workspace.
//
// The app hunts (Logs queries) and raises incidents with bookmarks. No built-in role grants exactly that: Microsoft
// Sentinel Responder cannot write bookmarks, Microsoft Sentinel Contributor can also rewrite the detections
// (analytics rules, hunting queries, watchlists). So by default the app gets a custom role holding only the hunt's
// operations ('huntResponder'), and the content (`shmhunt deploy`) is deployed by the CI/CD identity with
// Microsoft Sentinel Contributor. 'sentinelContributor' gives the app that built-in role instead, which the app's
// own deploy endpoint (POST /api/deploy) needs. docs/infra.md justifies each choice.

@description('Name of the existing Log Analytics workspace with Microsoft Sentinel enabled.')
param workspaceName string

@description('Principal id of the app identity (hunts, incidents, bookmarks; content deploy with sentinelContributor).')
param appPrincipalId string

@description('Role of the app on the workspace: huntResponder (custom: query, incidents and their comments, bookmarks) or sentinelContributor (built-in, also content deploy).')
@allowed([
  'huntResponder'
  'sentinelContributor'
])
param appWorkspaceRole string

@description('Principal id of the CI/CD identity that runs `shmhunt deploy`; empty: none (grant it yourself).')
param contentDeployerPrincipalId string

@description('Principal type of the CI/CD identity.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param contentDeployerPrincipalType string

var roles = loadJsonContent('../roles.json').roles

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

// Operation names from the Microsoft.SecurityInsights and Microsoft.OperationalInsights provider operations
// (Microsoft Learn, "Azure permissions for Security" and "for Monitor"). A verdict that arrives after its incident
// was raised is written as a comment (src/sentinel/incidents.ts, annotate): incidents/write does not cover it,
// comments are an operation of their own ("Microsoft.SecurityInsights/incidents/comments/write | Creates a comment
// on the incident").
var huntOperations = [
  'Microsoft.OperationalInsights/workspaces/read'
  'Microsoft.OperationalInsights/workspaces/query/read'
  'Microsoft.OperationalInsights/workspaces/query/*/read'
  'Microsoft.OperationalInsights/workspaces/analytics/query/action'
  'Microsoft.SecurityInsights/incidents/read'
  'Microsoft.SecurityInsights/incidents/write'
  'Microsoft.SecurityInsights/incidents/relations/write'
  'Microsoft.SecurityInsights/incidents/comments/write'
  'Microsoft.SecurityInsights/bookmarks/read'
  'Microsoft.SecurityInsights/bookmarks/write'
]
var useHuntRole = appWorkspaceRole == 'huntResponder'

// One definition per workspace resource group, shared by every shmhunt app hunting there.
resource huntRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (useHuntRole) {
  name: guid(resourceGroup().id, 'shmhunt-hunt-responder')
  properties: {
    roleName: 'shmhunt hunt responder (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'shmhunt: run Logs queries on the workspace, raise incidents with bookmarks and comment on them; no change to detections.'
    type: 'CustomRole'
    permissions: [
      {
        actions: huntOperations
        notActions: [
          'Microsoft.OperationalInsights/workspaces/query/ConfidentialWatchlist/*'
        ]
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource appSentinel 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, appPrincipalId, useHuntRole ? 'shmhunt-hunt-responder' : roles.sentinelContributor.id)
  scope: workspace
  properties: {
    roleDefinitionId: useHuntRole ? huntRole.id : subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.sentinelContributor.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSentinel 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(contentDeployerPrincipalId)) {
  name: guid(workspace.id, contentDeployerPrincipalId, roles.sentinelContributor.id)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.sentinelContributor.id)
    principalId: contentDeployerPrincipalId
    principalType: contentDeployerPrincipalType
  }
}

@description('The workspace id (customerId, a GUID) that Logs queries address: SHMHUNT_WORKSPACE_ID.')
output customerId string = workspace.properties.customerId

@description('Resource id of the workspace.')
output id string = workspace.id

@description('Role definition id the app holds on the workspace.')
output appRoleDefinitionId string = appSentinel.properties.roleDefinitionId
