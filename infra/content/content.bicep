// Sentinel content as Bicep: PLACEHOLDER until the generator lands.
//
// This file will be GENERATED from the rules by the deploy service (src/sentinel) and describe exactly the
// resources `shmhunt deploy` manages: hunting queries and KQL parser functions (workspace saved searches),
// scheduled analytics rules, the exclusions watchlist and its items, and the metadata marking them as shmhunt's.
// The generator must keep this interface, which infra/main.bicep relies on:
//   - deployed at resource-group scope, into the workspace's resource group;
//   - param workspaceName string: the existing Log Analytics workspace with Microsoft Sentinel;
//   - output resourceCount int: how many content resources it declares.
// Until then it declares nothing, so `deployContent=true` is harmless.

@description('Name of the existing Log Analytics workspace with Microsoft Sentinel.')
param workspaceName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

@description('Number of content resources declared by this module.')
output resourceCount int = 0

@description('Resource id of the workspace the content belongs to.')
output workspaceId string = workspace.id
