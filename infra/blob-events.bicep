// Delivers BlobCreated events of the samples container to the Function App's blob trigger (Event Grid source:
// the only blob trigger the Flex Consumption plan runs). Deployed AFTER the code is published, because Event Grid
// validates the endpoint when the subscription is created:
//   key=$(az functionapp keys list -g <rg> -n <app> --query systemKeys.blobs_extension -o tsv)
//   az deployment group create -g <rg> -f infra/blob-events.bicep \
//     -p functionAppName=<app> eventGridTopicName=<topic> blobsExtensionKey="$key"
// (.github/workflows/deploy.yml does this with the outputs of infra/main.bicep.)

targetScope = 'resourceGroup'

@description('Name of the Function App (output functionAppName of main.bicep).')
param functionAppName string

@description('Name of the storage account\'s Event Grid system topic (output eventGridTopicName of main.bicep).')
param eventGridTopicName string

@description('Container whose new blobs are delivered (the trigger\'s path).')
param samplesContainerName string = 'samples'

@description('Name of the blob-triggered function in functions/index.ts.')
@minLength(1)
@maxLength(50)
param functionName string = 'sampleArrived'

@description('The app\'s blobs_extension system key, which the webhook needs (never logged, never output).')
@secure()
param blobsExtensionKey string

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: eventGridTopicName
}

resource samplesArrived 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'samples-to-${functionName}'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${samplesContainerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

@description('Name of the event subscription.')
output subscriptionName string = samplesArrived.name
