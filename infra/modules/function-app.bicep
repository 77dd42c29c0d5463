// The Function App on the Flex Consumption plan (Linux, Node 22): the plan, the site running as the
// user-assigned identity, its deployment package in a blob container reached with that identity, and its app
// settings. Host storage (AzureWebJobsStorage) is identity-based; basic-auth publishing (FTP, SCM) is off.

@description('Name of the Function App (2-60 characters; also the first label of its host name).')
@minLength(2)
@maxLength(60)
param name string

@description('Name of the Flex Consumption plan (1-60 characters).')
@minLength(1)
@maxLength(60)
param planName string

@description('Azure region (one where the Flex Consumption plan is offered).')
param location string

@description('Tags applied to the plan and the site.')
param tags object

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Name of the storage account (host storage, deployment package, samples, state).')
param storageAccountName string

@description('Blob endpoint of the storage account, ending with a slash.')
param blobEndpoint string

@description('Container holding the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Maximum number of instances the app scales out to (Flex Consumption: 1-1000).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Largest request body the Functions host lets through to the app, in bytes (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT; the host\'s default is 104857600): the largest sample or JSON body the service accepts.')
@minValue(1)
param maxRequestBodyBytes int

@description('Settings the service reads (SHMHUNT_*), merged with the platform settings set here.')
param serviceSettings object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Flex Consumption refuses FUNCTIONS_WORKER_RUNTIME, WEBSITE_RUN_FROM_PACKAGE and similar settings: the runtime
// and the package come from functionAppConfig above.
var platformSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  AZURE_CLIENT_ID: identityClientId
  // The host refuses a body over this before the app sees it (default 104857600, about 100 MB); samples are
  // uploaded as the raw body, up to SHMHUNT_MAX_SAMPLE_BYTES (Microsoft Learn, "Stream HTTP requests and responses
  // in Node.js Azure Functions").
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string(maxRequestBodyBytes)
  // No trigger connection: the Event Grid trigger (sampleArrived) gets the event over its webhook, and the app
  // reads the samples container through the SDK with SHMHUNT_STORAGE_ACCOUNT and AZURE_CLIENT_ID.
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(serviceSettings, platformSettings)
}

resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the Function App.')
output name string = site.name

@description('Default host name of the app.')
output defaultHostName string = site.properties.defaultHostName

@description('Resource id of the Function App.')
output id string = site.id
