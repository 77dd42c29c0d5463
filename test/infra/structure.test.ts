/**
 * Structure of the Bicep under infra/, checked without a compiler: declarations used, module interfaces that
 * match, outputs described and resolvable, resource names within Azure's limits, no keys anywhere, the Flex
 * Consumption shape, and app settings named as the service reads them.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type BicepFile,
  bicepFiles,
  infraDir,
  lengthBounds,
  literalString,
  literalValue,
  loadBicep,
  objectKeys,
  property,
  propertyPath,
  referencedIdentifiers,
  repoRoot,
  type SyntaxNode,
} from "./bicep.js";

const files = bicepFiles().map(loadBicep);
const byPath = new Map(files.map((f) => [f.file, f]));
const main = loadBicep(path.join(infraDir, "main.bicep"));

function fileOf(relative: string): BicepFile {
  const file = byPath.get(path.join(infraDir, relative));
  if (!file) throw new Error(`infra/${relative} is missing`);
  return file;
}

/** Azure naming limits (Microsoft Learn, "Naming rules and restrictions for Azure resources"). */
const NAME_LIMITS: Readonly<Record<string, { min: number; max: number; pattern?: RegExp }>> = {
  "Microsoft.Storage/storageAccounts": { min: 3, max: 24, pattern: /^[a-z0-9]+$/ },
  "Microsoft.Storage/storageAccounts/blobServices/containers": {
    min: 3,
    max: 63,
    pattern: /^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/,
  },
  "Microsoft.Storage/storageAccounts/tableServices/tables": { min: 3, max: 63, pattern: /^[A-Za-z][A-Za-z0-9]*$/ },
  "Microsoft.Web/sites": { min: 2, max: 60 },
  "Microsoft.Web/serverfarms": { min: 1, max: 60 },
  "Microsoft.ManagedIdentity/userAssignedIdentities": { min: 3, max: 128 },
  "Microsoft.Insights/components": { min: 1, max: 260 },
  "Microsoft.OperationalInsights/workspaces": { min: 4, max: 63 },
  "Microsoft.EventGrid/systemTopics": { min: 3, max: 128 },
  "Microsoft.EventGrid/systemTopics/eventSubscriptions": { min: 3, max: 64 },
  // Sentinel content (infra/content, generated): the APIs document no pattern; shmhunt's names stay URL-safe.
  ...Object.fromEntries(
    [
      "Microsoft.OperationalInsights/workspaces/savedSearches",
      "Microsoft.SecurityInsights/alertRules",
      "Microsoft.SecurityInsights/watchlists",
      "Microsoft.SecurityInsights/watchlists/watchlistItems",
      "Microsoft.SecurityInsights/metadata",
    ].map((type) => [type, { min: 1, max: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/ }]),
  ),
};

/** Child resources whose names are fixed by the platform. */
const FIXED_NAMES: Readonly<Record<string, readonly string[]>> = {
  "Microsoft.Storage/storageAccounts/blobServices": ["default"],
  "Microsoft.Storage/storageAccounts/tableServices": ["default"],
  "Microsoft.Web/sites/config": ["appsettings", "web"],
  "Microsoft.Web/sites/basicPublishingCredentialsPolicies": ["ftp", "scm"],
};

/** Settings Flex Consumption refuses (the runtime and package come from functionAppConfig). */
const FLEX_FORBIDDEN_SETTINGS = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "AzureWebJobsStorage",
];

const BUILTIN_NAMES = new Set([
  "resourceGroup",
  "subscription",
  "tenant",
  "deployment",
  "environment",
  "az",
  "sys",
  "true",
  "false",
  "null",
]);

function at(file: BicepFile, node: SyntaxNode): string {
  return `${file.relative}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
}

function moduleFile(from: BicepFile, relative: string): BicepFile | undefined {
  return byPath.get(path.resolve(path.dirname(from.file), relative));
}

function loopVariables(root: SyntaxNode): Set<string> {
  const names = new Set<string>();
  for (const loop of root.descendantsOfType("for_statement")) {
    const initializer = loop.childForFieldName("initializer");
    if (initializer) names.add(initializer.text);
  }
  // A lambda's parameters (`field => !empty(field)`): every named child but the last, its body.
  for (const lambda of root.descendantsOfType("lambda_expression")) {
    for (const parameter of lambda.namedChildren.slice(0, -1)) {
      for (const name of parameter.type === "identifier" ? [parameter] : parameter.descendantsOfType("identifier")) {
        names.add(name.text);
      }
    }
  }
  return names;
}

describe("declarations", () => {
  for (const file of files) {
    it(`${file.relative}: every parameter, variable and function is used`, () => {
      const used = referencedIdentifiers(file.root);
      const unused = [...file.params.keys(), ...file.variables.keys()].filter((n) => !used.has(n));
      expect(unused).toEqual([]);
      const called = new Set(
        file.root.descendantsOfType("call_expression").map((c) => c.childForFieldName("function")?.text),
      );
      expect([...file.functions.keys()].filter((n) => !called.has(n))).toEqual([]);
    });

    it(`${file.relative}: every parameter and output is described`, () => {
      const undescribed = [...file.params.values(), ...file.outputs.values()]
        .filter((d) => !literalString(d.decorators.get("description")?.[0]))
        .map((d) => `${at(file, d.node)} ${d.name}`);
      expect(undescribed).toEqual([]);
    });

    it(`${file.relative}: every identifier refers to a declaration`, () => {
      const declared = new Set([
        ...file.params.keys(),
        ...file.variables.keys(),
        ...file.resources.keys(),
        ...file.modules.keys(),
        ...loopVariables(file.root),
        ...file.functions.keys(),
        ...BUILTIN_NAMES,
      ]);
      const unknown = [...referencedIdentifiers(file.root)].filter((n) => !declared.has(n));
      expect(unknown).toEqual([]);
      // A user-defined function's body names its own parameters, its lambdas' and built-ins only (Microsoft Learn,
      // "User-defined functions in Bicep": it "can only use parameters that are defined in the function").
      for (const f of file.functions.values()) {
        const own = new Set([...f.parameters, ...loopVariables(f.body), ...BUILTIN_NAMES]);
        expect(
          [...referencedIdentifiers(f.body)].filter((n) => !own.has(n)),
          f.name,
        ).toEqual([]);
      }
    });

    it(`${file.relative}: no output exposes a secure parameter or a key`, () => {
      const secure = [...file.params.values()].filter((p) => p.decorators.has("secure")).map((p) => p.name);
      for (const output of file.outputs.values()) {
        const used = referencedIdentifiers(output.value);
        expect(
          secure.filter((s) => used.has(s)),
          `${at(file, output.node)} ${output.name}`,
        ).toEqual([]);
        expect(output.name).not.toMatch(/key|secret|password|sas/i);
      }
    });
  }
});

describe("modules", () => {
  for (const file of files) {
    for (const mod of file.modules.values()) {
      it(`${file.relative}: module ${mod.name} ('${mod.path}') exists and its parameters match`, () => {
        const target = path.resolve(path.dirname(file.file), mod.path);
        expect(existsSync(target), `${at(file, mod.node)} ${mod.path}`).toBe(true);
        const callee = moduleFile(file, mod.path);
        if (!callee) throw new Error(`${mod.path} is not under infra/`);
        const passed = objectKeys(property(mod.body, "params"));
        const declared = [...callee.params.keys()];
        expect(
          passed.filter((p) => !declared.includes(p)),
          "passed but not declared",
        ).toEqual([]);
        const requiredParams = [...callee.params.values()].filter((p) => !p.defaultValue).map((p) => p.name);
        expect(
          requiredParams.filter((p) => !passed.includes(p)),
          "required but not passed",
        ).toEqual([]);
        // Deployment names: at most 64 characters, distinct per app (two apps may share a resource group).
        const deploymentName = property(mod.body, "name");
        expect(deploymentName, "a deployment name").toBeDefined();
        if (deploymentName) {
          expect(lengthBounds(deploymentName, file).max).toBeLessThanOrEqual(64);
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep interpolation, not a JavaScript template
          if (file.params.has("appName")) expect(deploymentName.text).toContain("${appName}");
        }
      });

      it(`${file.relative}: module ${mod.name}: outputs read from it are declared`, () => {
        const callee = moduleFile(file, mod.path);
        if (!callee) throw new Error(`${mod.path} is not under infra/`);
        const read = file.root
          .descendantsOfType("member_expression")
          .filter((m) => {
            const object = m.childForFieldName("object");
            return object?.type === "member_expression" && object.text === `${mod.name}.outputs`;
          })
          .map((m) => m.childForFieldName("property")?.text ?? "");
        expect(read.length).toBeGreaterThan(0);
        expect(read.filter((o) => !callee.outputs.has(o))).toEqual([]);
      });

      it(`${file.relative}: module ${mod.name}: values fit the module's parameter bounds`, () => {
        const callee = moduleFile(file, mod.path);
        if (!callee) throw new Error(`${mod.path} is not under infra/`);
        const params = property(mod.body, "params");
        for (const name of objectKeys(params)) {
          const declaration = callee.params.get(name);
          const value = property(params, name);
          if (!declaration || !value || declaration.type !== "string") continue;
          const maxLength = declaration.decorators.get("maxLength")?.[0];
          const minLength = declaration.decorators.get("minLength")?.[0];
          if (!maxLength && !minLength) continue;
          const bounds = lengthBounds(value, file);
          if (maxLength)
            expect(bounds.max, `${at(file, value)} ${name} ≤ ${maxLength.text}`).toBeLessThanOrEqual(
              Number(maxLength.text),
            );
          if (minLength)
            expect(bounds.min, `${at(file, value)} ${name} ≥ ${minLength.text}`).toBeGreaterThanOrEqual(
              Number(minLength.text),
            );
        }
      });
    }
  }
});

describe("resource names within Azure's limits", () => {
  it("the suffix is uniqueString (13 characters) and every generated name uses it", () => {
    const suffix = main.variables.get("suffix");
    expect(suffix && lengthBounds(suffix.value, main)).toEqual({ min: 13, max: 13 });
    const names = main.variables.get("names")?.value;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep interpolation, not a JavaScript template
    for (const key of objectKeys(names)) expect(property(names, key)?.text, key).toContain("${suffix}");
  });

  it("the storage account name is lower-case letters and digits, 3-24 characters", () => {
    const expression = property(main.variables.get("names")?.value, "storage");
    expect(expression).toBeDefined();
    if (!expression) return;
    expect(lengthBounds(expression, main).max).toBeLessThanOrEqual(24);
    expect(expression.text).toMatch(/^take\(toLower\(replace\(/);
    const literals = expression.descendantsOfType("string_content").map((n) => n.text);
    expect(literals.every((t) => t === "-" || /^[a-z0-9]*$/.test(t))).toBe(true);
    const appName = main.params.get("appName");
    expect(literalValue(appName?.defaultValue, main)).toMatch(/^[a-z0-9-]+$/);
  });

  it("names computed in main.bicep fit the limits of the resources they name", () => {
    const names = main.variables.get("names")?.value;
    const kinds: Record<string, string> = {
      identity: "Microsoft.ManagedIdentity/userAssignedIdentities",
      storage: "Microsoft.Storage/storageAccounts",
      plan: "Microsoft.Web/serverfarms",
      functionApp: "Microsoft.Web/sites",
      appInsights: "Microsoft.Insights/components",
      logAnalytics: "Microsoft.OperationalInsights/workspaces",
      eventGridTopic: "Microsoft.EventGrid/systemTopics",
    };
    expect(objectKeys(names).sort()).toEqual(Object.keys(kinds).sort());
    for (const [key, type] of Object.entries(kinds)) {
      const limit = NAME_LIMITS[type];
      const expression = property(names, key);
      if (!limit || !expression) throw new Error(`no limit or expression for ${key}`);
      const bounds = lengthBounds(expression, main);
      expect(bounds.max, `${key} (${type}) at most ${limit.max}`).toBeLessThanOrEqual(limit.max);
      expect(bounds.min, `${key} at least ${limit.min}`).toBeGreaterThanOrEqual(limit.min);
    }
  });

  for (const file of files) {
    it(`${file.relative}: every resource it creates has a name within its type's limits`, () => {
      for (const resource of file.resources.values()) {
        if (resource.existing) continue;
        const nameNode = property(resource.body, "name");
        const where = `${at(file, resource.node)} ${resource.name} (${resource.resourceType})`;
        expect(nameNode, where).toBeDefined();
        if (!nameNode) continue;
        if (
          resource.resourceType === "Microsoft.Authorization/roleAssignments" ||
          resource.resourceType === "Microsoft.Authorization/roleDefinitions"
        ) {
          expect(nameNode.text, `${where}: deterministic guid()`).toMatch(/^guid\(/);
          continue;
        }
        const fixed = FIXED_NAMES[resource.resourceType];
        if (fixed) {
          expect(fixed, where).toContain(literalString(nameNode));
          continue;
        }
        const limit = NAME_LIMITS[resource.resourceType];
        expect(limit, `${where}: add its naming limits to NAME_LIMITS`).toBeDefined();
        if (!limit) continue;
        const bounds = lengthBounds(nameNode, file);
        expect(bounds.max, `${where} at most ${limit.max}`).toBeLessThanOrEqual(limit.max);
        expect(bounds.min, `${where} at least ${limit.min}`).toBeGreaterThanOrEqual(
          nameNode.type === "identifier" ? limit.min : 0,
        );
        const literal = literalValue(nameNode, file);
        if (typeof literal === "string" && limit.pattern) expect(literal, where).toMatch(limit.pattern);
      }
    });
  }

  it("the fixed container and table names are valid", () => {
    const container = NAME_LIMITS["Microsoft.Storage/storageAccounts/blobServices/containers"];
    const table = NAME_LIMITS["Microsoft.Storage/storageAccounts/tableServices/tables"];
    for (const name of ["samplesContainerName", "deploymentContainerName"]) {
      const value = literalValue(main.variables.get(name)?.value, main);
      expect(typeof value).toBe("string");
      expect(String(value)).toMatch(container?.pattern ?? /never/);
      expect(String(value).length).toBeLessThanOrEqual(container?.max ?? 0);
    }
    expect(String(literalValue(main.variables.get("stateTableName")?.value, main))).toMatch(table?.pattern ?? /never/);
  });
});

describe("no keys, shared-key access off, TLS 1.2, local auth off", () => {
  const infraText = files.map((f) => ({ file: f.relative, text: f.source }));
  const jsonText = ["main.parameters.json", "roles.json"].map((f) => ({
    file: `infra/${f}`,
    text: readFileSync(path.join(infraDir, f), "utf8"),
  }));

  it("no listKeys/list*Sas call and no key-bearing connection string in infra/", () => {
    for (const { file, text } of [...infraText, ...jsonText]) {
      expect(text, file).not.toMatch(/\blist(Keys|AccountSas|ServiceSas|Secrets)\s*\(/i);
      expect(text, file).not.toMatch(
        /AccountKey=|SharedAccessSignature=|InstrumentationKey=|DefaultEndpointsProtocol=/i,
      );
      expect(text, file).not.toMatch(/\.listKeys\b|primaryKey|secondaryKey/);
    }
  });

  it("the storage account refuses shared keys and anonymous access, and needs TLS 1.2 and HTTPS", () => {
    const account = fileOf("modules/storage.bicep").resources.get("account");
    const props = property(account?.body, "properties");
    const storage = fileOf("modules/storage.bicep");
    expect(literalValue(property(props, "allowSharedKeyAccess"), storage)).toBe(false);
    expect(literalValue(property(props, "allowBlobPublicAccess"), storage)).toBe(false);
    expect(literalValue(property(props, "minimumTlsVersion"), storage)).toBe("TLS1_2");
    expect(literalValue(property(props, "supportsHttpsTrafficOnly"), storage)).toBe(true);
    expect(literalValue(property(props, "defaultToOAuthAuthentication"), storage)).toBe(true);
  });

  it("Application Insights and its workspace have local authentication disabled", () => {
    const monitoring = fileOf("modules/monitoring.bicep");
    const insights = monitoring.resources.get("appInsights");
    expect(literalValue(propertyPath(insights?.body, "properties.DisableLocalAuth"), monitoring)).toBe(true);
    expect(propertyPath(insights?.body, "properties.WorkspaceResourceId")).toBeDefined();
    const workspace = monitoring.resources.get("telemetryWorkspace");
    expect(literalValue(propertyPath(workspace?.body, "properties.features.disableLocalAuth"), monitoring)).toBe(true);
  });

  it("the site is HTTPS only with TLS 1.2, and basic-auth publishing is off", () => {
    const app = fileOf("modules/function-app.bicep");
    const site = app.resources.get("site");
    expect(literalValue(propertyPath(site?.body, "properties.httpsOnly"), app)).toBe(true);
    expect(literalValue(propertyPath(site?.body, "properties.siteConfig.minTlsVersion"), app)).toBe("1.2");
    for (const policy of ["ftpPolicy", "scmPolicy"]) {
      expect(literalValue(propertyPath(app.resources.get(policy)?.body, "properties.allow"), app)).toBe(false);
    }
  });
});

describe("Flex Consumption Function App", () => {
  const app = fileOf("modules/function-app.bicep");
  const site = app.resources.get("site");
  const plan = app.resources.get("plan");

  it("runs on an FC1 / FlexConsumption Linux plan", () => {
    expect(literalValue(propertyPath(plan?.body, "sku.name"), app)).toBe("FC1");
    expect(literalValue(propertyPath(plan?.body, "sku.tier"), app)).toBe("FlexConsumption");
    expect(literalValue(propertyPath(plan?.body, "properties.reserved"), app)).toBe(true);
    expect(String(literalValue(property(site?.body, "kind"), app))).toContain("linux");
  });

  it("runs Node 22 (Node 20 reached end of life in April 2026) from a deployment container reached with the user-assigned identity", () => {
    const config = propertyPath(site?.body, "properties.functionAppConfig");
    expect(literalValue(propertyPath(config, "runtime.name"), app)).toBe("node");
    expect(literalValue(propertyPath(config, "runtime.version"), app)).toBe("22");
    expect(literalValue(propertyPath(config, "deployment.storage.type"), app)).toBe("blobContainer");
    expect(literalValue(propertyPath(config, "deployment.storage.authentication.type"), app)).toBe(
      "UserAssignedIdentity",
    );
    expect(propertyPath(config, "deployment.storage.authentication.userAssignedIdentityResourceId")?.text).toBe(
      "identityId",
    );
    expect(propertyPath(config, "scaleAndConcurrency.maximumInstanceCount")).toBeDefined();
    expect(propertyPath(config, "scaleAndConcurrency.instanceMemoryMB")).toBeDefined();
    expect(literalValue(propertyPath(site?.body, "identity.type"), app)).toBe("UserAssigned");
  });

  const platform = app.variables.get("platformSettings")?.value;
  const service = main.variables.get("serviceSettings")?.value;
  const settingNames = [...objectKeys(platform), ...objectKeys(service)];

  it("host storage is identity-based (AzureWebJobsStorage__accountName/credential/clientId)", () => {
    expect(property(platform, "AzureWebJobsStorage__accountName")?.text).toBe("storageAccountName");
    expect(literalValue(property(platform, "AzureWebJobsStorage__credential"), app)).toBe("managedidentity");
    expect(property(platform, "AzureWebJobsStorage__clientId")?.text).toBe("identityClientId");
    // No trigger connection: the Event Grid trigger has none (the blob trigger's SHMHUNT_STORAGE__* are gone).
    expect(settingNames.filter((n) => n.startsWith("SHMHUNT_STORAGE__"))).toEqual([]);
  });

  it("Application Insights is reached with Entra ID (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)", () => {
    expect(property(platform, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING")?.text).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep interpolation, not a JavaScript template
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
    expect(settingNames).toContain("APPLICATIONINSIGHTS_CONNECTION_STRING");
  });

  it("sets no setting that Flex Consumption refuses, and no storage connection string", () => {
    expect(settingNames.filter((n) => FLEX_FORBIDDEN_SETTINGS.includes(n))).toEqual([]);
    expect(settingNames).not.toContain("SHMHUNT_STORAGE_CONNECTION_STRING");
    expect(settingNames.filter((n) => /ConnectionString$|__connectionString$/i.test(n))).toEqual([]);
  });

  it("every SHMHUNT_ setting is one the service reads (src/app/config.ts, functions/index.ts)", () => {
    const config = readFileSync(path.join(repoRoot, "src/app/config.ts"), "utf8");
    const functions = readFileSync(path.join(repoRoot, "functions/index.ts"), "utf8");
    const unknown = settingNames
      .filter((n) => n.startsWith("SHMHUNT_"))
      .filter((n) => {
        const connection = n.split("__")[0] ?? n;
        if (n.includes("__")) return !functions.includes(`connection: "${connection}"`);
        return !config.includes(`"${n}"`) && !functions.includes(`%${n}%`);
      });
    expect(unknown).toEqual([]);
  });

  it("sets what the service needs in Azure: storage, workspace, Sentinel target, schedule, identity", () => {
    expect(settingNames).toEqual(
      expect.arrayContaining([
        "SHMHUNT_STORAGE_ACCOUNT",
        "SHMHUNT_SAMPLES_CONTAINER",
        "SHMHUNT_STATE_TABLE",
        "SHMHUNT_WORKSPACE_ID",
        "SHMHUNT_SUBSCRIPTION_ID",
        "SHMHUNT_RESOURCE_GROUP",
        "SHMHUNT_WORKSPACE_NAME",
        "SHMHUNT_HUNT_SCHEDULE",
        "SHMHUNT_MAX_SAMPLE_BYTES",
        "AZURE_CLIENT_ID",
      ]),
    );
    expect(new Set(settingNames).size).toBe(settingNames.length);
  });

  it("sampleArrived is an Event Grid trigger (the event only, never the blob's content), named as blob-events.bicep says", () => {
    const functions = readFileSync(path.join(repoRoot, "functions/index.ts"), "utf8");
    const events = fileOf("blob-events.bicep");
    const functionName = literalValue(events.params.get("functionName")?.defaultValue, events);
    expect(functions).toMatch(new RegExp(`app\\.eventGrid\\("${String(functionName)}", \\{`));
    // No blob trigger: its host reads the whole blob into memory before the handler runs.
    expect(functions).not.toContain("app.storageBlob(");
  });

  it("the webhook is the Event Grid trigger's endpoint, with the eventgrid_extension system key", () => {
    // Microsoft Learn, "How to work with Event Grid triggers and bindings in Azure Functions", Webhook endpoint URL:
    // "https://{functionappname}.azurewebsites.net/runtime/webhooks/eventgrid?functionName={functionname}&code={systemkey}"
    const events = fileOf("blob-events.bicep");
    const subscription = events.resources.get("samplesArrived")?.body;
    expect(propertyPath(subscription, "properties.destination.endpointType")?.text).toBe("'WebHook'");
    expect(propertyPath(subscription, "properties.destination.properties.endpointUrl")?.text).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep interpolation, not a JavaScript template
      "'https://${site.properties.defaultHostName}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}'",
    );
    expect(events.params.has("eventGridExtensionKey")).toBe(true);
    expect(events.params.has("blobsExtensionKey")).toBe(false);
    expect(events.source).toMatch(/@secure\(\)\s*param eventGridExtensionKey string/);
    expect(events.source).toContain("systemKeys.eventgrid_extension");
  });

  it("the subscription delivers the samples container's BlobCreated events, the container the app reads", () => {
    const events = fileOf("blob-events.bicep");
    const container = literalValue(events.params.get("samplesContainerName")?.defaultValue, events);
    expect(container).toBe(literalValue(main.variables.get("samplesContainerName")?.value, main));
    expect(property(service, "SHMHUNT_SAMPLES_CONTAINER")?.text).toBe("samplesContainerName");
    const filter = propertyPath(events.resources.get("samplesArrived")?.body, "properties.filter");
    // Microsoft Learn, "Azure Blob Storage as an Event Grid source": the subject of a blob event is
    // "/blobServices/default/containers/<container>/blobs/<blob>".
    expect(property(filter, "subjectBeginsWith")?.text).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep interpolation, not a JavaScript template
      "'/blobServices/default/containers/${samplesContainerName}/'",
    );
    expect(property(filter, "includedEventTypes")?.text).toContain("'Microsoft.Storage.BlobCreated'");
  });
});

describe("the Sentinel workspace in another resource group", () => {
  it("main.bicep deploys the workspace roles through a module scoped to the workspace's resource group", () => {
    for (const name of ["sentinelAccess", "content"]) {
      const mod = main.modules.get(name);
      expect(property(mod?.body, "scope")?.text).toBe("resourceGroup(workspaceSubscriptionId, workspaceResourceGroup)");
    }
  });

  it("the resource id is split at the right positions", () => {
    const parameters = JSON.parse(readFileSync(path.join(infraDir, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const id = String(parameters.parameters.sentinelWorkspaceResourceId?.value);
    const parts = id.split("/");
    const index = (name: string) => Number(/\[(\d+)\]/.exec(main.variables.get(name)?.value.text ?? "")?.[1]);
    expect(parts[index("workspaceSubscriptionId") - 1]).toBe("subscriptions");
    expect(parts[index("workspaceResourceGroup") - 1]).toBe("resourceGroups");
    expect(main.variables.get("workspaceName")?.value.text).toBe("last(workspaceIdParts)");
    const minLength = Number(main.params.get("sentinelWorkspaceResourceId")?.decorators.get("minLength")?.[0]?.text);
    const shortest =
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/wxyz";
    expect(minLength).toBe(shortest.length);
  });

  it("the content module keeps the interface the generator must honour", () => {
    const content = fileOf("content/content.bicep");
    expect([...content.params.keys()]).toEqual(["workspaceName"]);
    expect(content.outputs.get("resourceCount")?.type).toBe("int");
  });
});

describe("main.parameters.json", () => {
  const parameters = JSON.parse(readFileSync(path.join(infraDir, "main.parameters.json"), "utf8")) as {
    parameters: Record<string, { value: unknown }>;
  };

  it("names only parameters main.bicep declares, and every one without a default", () => {
    const declared = [...main.params.keys()];
    expect(Object.keys(parameters.parameters).filter((p) => !declared.includes(p))).toEqual([]);
    const requiredParams = [...main.params.values()].filter((p) => !p.defaultValue).map((p) => p.name);
    expect(requiredParams.filter((p) => !(p in parameters.parameters))).toEqual([]);
  });

  it("gives values main.bicep accepts (type, @allowed, @min/@maxValue, @min/@maxLength)", () => {
    for (const [name, { value }] of Object.entries(parameters.parameters)) {
      const param = main.params.get(name);
      if (!param) continue;
      const typeOf = { string: "string", int: "number", bool: "boolean", object: "object", array: "object" }[
        param.type
      ];
      expect(typeof value, name).toBe(typeOf);
      const allowed = param.decorators.get("allowed")?.[0];
      if (allowed) {
        const options = allowed.namedChildren.map((n) => literalValue(n, main));
        expect(options, name).toContain(value);
      }
      const number = (d: string) => param.decorators.get(d)?.[0]?.text;
      if (typeof value === "number") {
        if (number("minValue")) expect(value, name).toBeGreaterThanOrEqual(Number(number("minValue")));
        if (number("maxValue")) expect(value, name).toBeLessThanOrEqual(Number(number("maxValue")));
      }
      if (typeof value === "string") {
        if (number("minLength")) expect(value.length, name).toBeGreaterThanOrEqual(Number(number("minLength")));
        if (number("maxLength")) expect(value.length, name).toBeLessThanOrEqual(Number(number("maxLength")));
      }
    }
    expect(String(parameters.parameters.sentinelWorkspaceResourceId?.value)).toMatch(
      /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/,
    );
    expect(String(parameters.parameters.appName?.value)).toMatch(/^[a-z0-9-]+$/);
  });

  it("defaults in main.bicep also satisfy their own decorators", () => {
    for (const param of main.params.values()) {
      const value = literalValue(param.defaultValue, main);
      const allowed = param.decorators.get("allowed")?.[0];
      if (allowed && value !== undefined) {
        expect(
          allowed.namedChildren.map((n) => literalValue(n, main)),
          param.name,
        ).toContain(value);
      }
      const maxLength = param.decorators.get("maxLength")?.[0];
      if (maxLength && typeof value === "string") expect(value.length).toBeLessThanOrEqual(Number(maxLength.text));
    }
  });
});

describe("docs/infra.md", () => {
  const docs = readFileSync(path.join(repoRoot, "docs/infra.md"), "utf8");
  const roles = JSON.parse(readFileSync(path.join(infraDir, "roles.json"), "utf8")) as {
    roles: Record<string, { id: string; name: string }>;
  };

  it("documents every parameter and output of main.bicep", () => {
    const missing = [...main.params.keys(), ...main.outputs.keys()].filter(
      (n) => !new RegExp(`^\\| \`${n}\` +\\|`, "m").test(docs),
    );
    expect(missing).toEqual([]);
  });

  it("justifies every pinned role, with its id", () => {
    for (const role of Object.values(roles.roles)) {
      expect(docs).toContain(role.name);
      expect(docs).toContain(role.id);
    }
  });

  it("lists every app setting the Bicep sets", () => {
    const app = fileOf("modules/function-app.bicep");
    const names = [
      ...objectKeys(app.variables.get("platformSettings")?.value),
      ...objectKeys(main.variables.get("serviceSettings")?.value),
    ];
    const missing = names.filter((n) => !docs.includes(n) && !docs.includes(`__${n.split("__")[1]}`));
    expect(missing).toEqual([]);
  });
});

describe("infra/bicepconfig.json", () => {
  it("makes the compiler's secret and hygiene rules errors where the compiler runs (CI: az bicep build)", () => {
    const config = JSON.parse(readFileSync(path.join(infraDir, "bicepconfig.json"), "utf8")) as {
      analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
    };
    expect(config.analyzers.core.enabled).toBe(true);
    for (const rule of [
      "outputs-should-not-contain-secrets",
      "secure-parameter-default",
      "use-secure-value-for-secure-inputs",
      "no-hardcoded-env-urls",
      "no-unused-params",
      "no-unused-vars",
    ]) {
      expect(config.analyzers.core.rules[rule]?.level, rule).toBe("error");
    }
  });

  it("has no hard-coded cloud endpoint in any template (no-hardcoded-env-urls, checked here too)", () => {
    for (const file of files) {
      expect(file.source, file.relative).not.toMatch(/core\.windows\.net|azurewebsites\.net|management\.azure\.com/);
    }
  });
});
