/**
 * A Serverless Framework service (`serverless.yml`) as the WebSocket app the gateway serves: its
 * variables resolved (`./variables.ts`), its functions and `websocket` events compiled to the
 * resources the Framework deploys (`./compile.ts`), its `resources:` (CloudFormation, tables among
 * them) added to them, and the whole read as a template, as CloudFormation reads what the Framework
 * sends it. What of the service is not replayed (plugins, other events, IAM, ...) is named in one line each.
 * https://www.serverless.com/framework/docs/providers/aws/guide/serverless.yml
 */
import type { WebSocketApp } from "../../websocket-app";
import { type TemplateOptions, templateApp } from "../cloudformation/template-app";
import type { Template, TemplateResource } from "../cloudformation/template-file";
import { SourceError } from "../source-error";
import { compileResources, type ServerlessFunction } from "./compile";
import { resolveVariables } from "./variables";

/** Top-level keys that change nothing a local run replays. */
const QUIET_KEYS = new Set([
  "service",
  "frameworkVersion",
  "provider",
  "functions",
  "resources",
  "custom",
  "package",
  "org",
  "app",
  "configValidationMode",
  "variablesResolutionMode",
  "deprecationNotificationMode",
  "disabledDeprecations",
]);
/** Provider keys read here, or that change nothing a handler sees locally. */
const PROVIDER_KEYS = new Set([
  "name",
  "runtime",
  "stage",
  "region",
  "environment",
  "timeout",
  "memorySize",
  "websocketsApiName",
  "websocketsApiRouteSelectionExpression",
  "websocketsDescription",
  "deploymentBucket",
  "deploymentMethod",
  "versionFunctions",
  "architecture",
  "profile",
  "stackName",
  "tags",
  "stackTags",
  "logRetentionInDays",
  // The functions' roles (`./compile.ts`).
  "iam",
  "iamRoleStatements",
  "iamManagedPolicies",
  "role",
]);

/** Whether `file` is a Framework service rather than a template: it names a `service` and a `provider`. */
export function isServerlessService(template: object): boolean {
  return "service" in template && "provider" in template;
}

/** The service `raw` (the file's YAML, CloudFormation's short forms read) as the gateway serves it. */
export function serverlessApp(
  raw: Record<string, unknown>,
  file: string,
  place: Omit<TemplateOptions, "stackName">,
): WebSocketApp {
  const notes: string[] = [];
  const config = resolveVariables(
    raw,
    { ...(place.stage && { stage: place.stage }), region: place.region, accountId: place.accountId, env: process.env },
    file,
    notes,
  );
  const provider = (config.provider ?? {}) as Record<string, unknown>;
  if (provider.name !== "aws")
    throw new SourceError(`${file}: provider ${String(provider.name)}: only aws is replayed`);
  const service = String(
    typeof config.service === "object" ? (config.service as { name?: unknown }).name : config.service,
  );
  const stage = place.stage ?? String(provider.stage ?? "dev");
  notes.push(...serviceNotes(config, provider, place.region));
  let resources: Record<string, TemplateResource>;
  try {
    resources = compileResources(
      { service, stage, provider, functions: (config.functions ?? {}) as Record<string, ServerlessFunction> },
      notes,
    );
  } catch (error) {
    if (error instanceof SourceError) throw new SourceError(`${file}: ${error.message}`);
    throw error;
  }
  const template = withResources({ Resources: resources }, config.resources);
  const app = templateApp(template, file, { ...place, stage, stackName: `${service}-${stage}` });
  return { ...app, unmapped: [...notes, ...app.unmapped] };
}

/** One line for each part of the service this gateway does not replay. */
function serviceNotes(config: Record<string, unknown>, provider: Record<string, unknown>, region: string): string[] {
  const notes: string[] = [];
  const plugins = [config.plugins ?? []].flat() as unknown[];
  if (plugins.length > 0) notes.push(`plugins ${plugins.join(", ")} are not run locally`);
  for (const key of Object.keys(config)) {
    if (!QUIET_KEYS.has(key) && key !== "plugins") notes.push(`${key} is not replayed locally`);
  }
  for (const key of Object.keys(provider)) {
    if (PROVIDER_KEYS.has(key)) continue;
    notes.push(`provider.${key} is not replayed locally`);
  }
  if (provider.region !== undefined && provider.region !== region) {
    notes.push(`provider.region ${String(provider.region)}: the functions run in ${region} here (--region)`);
  }
  return notes;
}

/** The compiled template with the service's `resources:` (a map or a list of them) merged in, as the Framework merges them. */
function withResources(template: Template, resources: unknown): Template {
  const merged: Template = { ...template, Resources: { ...template.Resources } };
  for (const part of [resources ?? []].flat() as Template[]) {
    for (const [id, resource] of Object.entries(part.Resources ?? {})) {
      const compiled = merged.Resources?.[id];
      (merged.Resources as Record<string, TemplateResource>)[id] = compiled
        ? { ...compiled, ...resource, Properties: { ...compiled.Properties, ...resource.Properties } }
        : resource;
    }
    merged.Conditions = { ...merged.Conditions, ...part.Conditions };
    merged.Parameters = { ...merged.Parameters, ...part.Parameters };
  }
  return merged;
}
