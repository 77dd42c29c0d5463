// The user-assigned managed identity the Function App runs as: host storage, samples, state, Application
// Insights and the Sentinel workspace are all reached with it (no keys, no connection strings with secrets).

@description('Name of the user-assigned managed identity (3-128 characters).')
@minLength(3)
@maxLength(128)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output id string = identity.id

@description('Client (application) id: AZURE_CLIENT_ID and the __clientId of identity-based connections.')
output clientId string = identity.properties.clientId

@description('Object (principal) id: the principal of the role assignments.')
output principalId string = identity.properties.principalId
