// Storage for the Functions host (AzureWebJobsStorage), the Flex Consumption deployment package, the samples
// (blob container, scanned on arrival by the Event Grid trigger) and the hunt state (table). Shared-key access is
// disabled: everything is reached with the app's managed identity and the roles assigned here.

@description('Storage account name (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account and the Event Grid system topic.')
param tags object

@description('Replication (SKU) of the account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string

@description('Blob container the service stores samples in (its BlobCreated events reach the Event Grid trigger).')
@minLength(3)
@maxLength(63)
param samplesContainerName string

@description('Blob container holding the Flex Consumption deployment package.')
@minLength(3)
@maxLength(63)
param deploymentContainerName string

@description('Table holding the hunt state (checkpoints, hits, pending, verdicts).')
@minLength(3)
@maxLength(63)
param stateTableName string

@description('Principal id of the app identity that gets the data roles.')
param principalId string

@description('Days deleted blobs (samples, packages) are kept before they are purged.')
@minValue(1)
@maxValue(365)
param blobDeleteRetentionDays int

@description('Name of the Event Grid system topic publishing the account\'s blob events (samples arriving).')
@minLength(3)
@maxLength(128)
param eventGridTopicName string

var roles = loadJsonContent('../roles.json').roles

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: blobDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: blobDeleteRetentionDays
    }
  }
}

resource samplesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: samplesContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource stateTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: stateTableName
}

// Blob events of the account; the subscription delivering `samples/` BlobCreated events to the function is
// created after the code is published (infra/blob-events.bicep), because Event Grid validates the endpoint.
resource blobEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: eventGridTopicName
  location: location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Functions host storage and the Flex Consumption deployment need Blob Data Owner (leases, containers the host
// creates), which also covers the app's own reads and writes of the samples container; the state needs Table Data
// Contributor. No queue role: no trigger or binding of the app uses queues (the Event Grid trigger has no storage
// connection; the blob trigger it replaced needed Queue Data Contributor for its poison-blob queue). At account
// scope: the host creates its own containers.
var dataRoles = [
  roles.storageBlobDataOwner.id
  roles.storageTableDataContributor.id
]

resource dataRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in dataRoles: {
    name: guid(account.id, principalId, roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

@description('Name of the storage account.')
output name string = account.name

@description('Resource id of the storage account.')
output id string = account.id

@description('Blob service endpoint of the account, ending with a slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Table service endpoint.')
output tableEndpoint string = account.properties.primaryEndpoints.table

@description('Name of the samples container.')
output samplesContainerName string = samplesContainer.name

@description('Name of the deployment package container.')
output deploymentContainerName string = deploymentContainer.name

@description('Name of the state table.')
output stateTableName string = stateTable.name

@description('Name of the Event Grid system topic of the account.')
output eventGridTopicName string = blobEvents.name
