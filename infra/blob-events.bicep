// Delivers BlobCreated events of the samples container to the Function App's Event Grid trigger (sampleArrived in
// functions/index.ts: it gets the event, never the blob, and reads the blob itself only if it is within the sample
// limit). Deployed AFTER the code is published, because Event Grid validates the endpoint when the subscription is
// created, and the key exists once the app runs an Event Grid trigger:
//   key=$(az functionapp keys list -g <rg> -n <app> --query systemKeys.eventgrid_extension -o tsv)
//   az deployment group create -g <rg> -f infra/blob-events.bicep \
//     -p functionAppName=<app> eventGridTopicName=<topic> eventGridExtensionKey="$key"
// The endpoint, as Microsoft Learn gives it ("How to work with Event Grid triggers and bindings in Azure Functions",
// Webhook endpoint URL): https://<the app's host name>/runtime/webhooks/eventgrid?functionName={functionname}&code=
// {systemkey}; "The endpoint URL contains a system key, which you must obtain from Functions administrator REST
// APIs" (the eventgrid_extension system key). The host name is the site's defaultHostName, not written out here.
// (.github/workflows/deploy.yml does this with the outputs of infra/main.bicep.)

targetScope = 'resourceGroup'

@description('Name of the Function App (output functionAppName of main.bicep).')
param functionAppName string

@description('Name of the storage account\'s Event Grid system topic (output eventGridTopicName of main.bicep).')
param eventGridTopicName string

@description('Container whose new blobs are delivered (SHMHUNT_SAMPLES_CONTAINER: the handler ignores events of any other).')
param samplesContainerName string = 'samples'

@description('Name of the Event Grid triggered function in functions/index.ts.')
@minLength(1)
@maxLength(50)
param functionName string = 'sampleArrived'

@description('The app\'s eventgrid_extension system key, which the webhook needs (never logged, never output).')
@secure()
param eventGridExtensionKey string

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
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}'
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
