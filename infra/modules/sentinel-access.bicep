// Deployed into the Sentinel workspace's resource group (which may differ from the app's): the role the app
// needs on the workspace, and the workspace facts the app settings need. Least privilege: one built-in role,
// Microsoft Sentinel Contributor, at the scope of the workspace only (see docs/infra.md for why no other
// built-in role is smaller and what a custom role would hold).

@description('Name of the existing Log Analytics workspace with Microsoft Sentinel enabled.')
param workspaceName string

@description('Principal id of the app identity (hunts, incidents, bookmarks, content deploy from the app).')
param appPrincipalId string

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

resource appSentinel 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, appPrincipalId, roles.sentinelContributor.id)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.sentinelContributor.id)
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
