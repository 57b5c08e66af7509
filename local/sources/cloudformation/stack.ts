/**
 * A template as the stack CloudFormation would create from it, as far as the gateway needs: which
 * resources exist (their `Condition` true), each property evaluated on demand (`./intrinsics.ts`), and
 * what `Ref` and `Fn::GetAtt` of each resource return: the documented return values, with the API
 * id the gateway serves under, its region and account, and a physical name `{stack}-{logicalId}`
 * where the template names none (CloudFormation adds a random suffix; locally the name stays put
 * across restarts). https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
 */
import { SourceError } from "../source-error";
import { type ResolveContext, resolve, UnresolvableError } from "./intrinsics";
import { parameterValues } from "./parameters";
import type { Template, TemplateResource } from "./template-file";

/** Where the stack is deployed, locally. */
export interface StackPlace {
  stackName: string;
  region: string;
  accountId: string;
  /** The id of the WebSocket API the gateway serves (`Ref` of that `AWS::ApiGatewayV2::Api`). */
  apiId: string;
  parameterOverrides: Readonly<Record<string, string>>;
}

/** The property of each type that names its resource, when the template sets it. */
const NAME_PROPERTIES: Record<string, string> = {
  "AWS::Lambda::Function": "FunctionName",
  "AWS::Serverless::Function": "FunctionName",
  "AWS::DynamoDB::Table": "TableName",
  "AWS::Serverless::SimpleTable": "TableName",
  "AWS::IAM::Role": "RoleName",
  "AWS::ApiGatewayV2::Stage": "StageName",
};

export class Stack {
  /** The resources that exist: those whose `Condition` holds. */
  readonly resources: ReadonlyMap<string, TemplateResource>;
  private readonly context: ResolveContext;
  /** The WebSocket API the gateway serves, whose `Ref` is the gateway's API id. */
  servedApi: string | undefined;

  constructor(
    readonly template: Template,
    readonly file: string,
    readonly place: StackPlace,
  ) {
    const conditions = template.Conditions ?? {};
    const evaluated = new Map<string, boolean>();
    const refs = {
      ...parameterValues(template.Parameters ?? {}, place.parameterOverrides, file),
      "AWS::Region": place.region,
      "AWS::AccountId": place.accountId,
      "AWS::Partition": "aws",
      "AWS::URLSuffix": "amazonaws.com",
      "AWS::StackName": place.stackName,
      "AWS::StackId": `arn:aws:cloudformation:${place.region}:${place.accountId}:stack/${place.stackName}/local`,
      "AWS::NotificationARNs": [],
    };
    this.context = {
      refs,
      mappings: template.Mappings ?? {},
      condition: (name) => {
        const known = evaluated.get(name);
        if (known !== undefined) return known;
        if (!Object.hasOwn(conditions, name)) throw new SourceError(`${file}: no condition ${name} in Conditions`);
        const value = resolve(conditions[name], this.context);
        if (typeof value !== "boolean") throw new SourceError(`${file}: condition ${name} is not true or false`);
        evaluated.set(name, value);
        return value;
      },
      resourceRef: (logicalId) => (this.resources.has(logicalId) ? this.ref(logicalId) : undefined),
      getAtt: (logicalId, attribute) => this.getAtt(logicalId, attribute),
    };
    const resources = new Map<string, TemplateResource>();
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Condition === undefined || this.context.condition(resource.Condition)) {
        resources.set(logicalId, resource);
      }
    }
    this.resources = resources;
  }

  /** `value` evaluated in this stack; throws {@link UnresolvableError} for what it cannot evaluate. */
  resolve(value: unknown): unknown {
    return resolve(value, this.context);
  }

  /** A resource's property, evaluated. */
  property(logicalId: string, name: string): unknown {
    return this.resolve(this.resources.get(logicalId)?.Properties?.[name]);
  }

  /** The logical ids of the resources of `type`. */
  ofType(type: string): string[] {
    return [...this.resources].filter(([, resource]) => resource.Type === type).map(([logicalId]) => logicalId);
  }

  /** The resource's physical name: its name property, else `{stack}-{logicalId}`. */
  physicalName(logicalId: string): string {
    const type = this.resources.get(logicalId)?.Type ?? "";
    const property = NAME_PROPERTIES[type];
    const named = property ? this.property(logicalId, property) : undefined;
    return typeof named === "string" ? named : `${this.place.stackName}-${logicalId}`;
  }

  private ref(logicalId: string): unknown {
    const type = this.resources.get(logicalId)?.Type;
    if (type === "AWS::ApiGatewayV2::Api") return logicalId === this.servedApi ? this.place.apiId : logicalId;
    if (type && Object.hasOwn(NAME_PROPERTIES, type)) return this.physicalName(logicalId);
    // Integrations, routes, authorizers, deployments: their ids, which only name them to each other.
    return logicalId;
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.resources.get(logicalId);
    const { region, accountId } = this.place;
    const arn = (service: string, rest: string) => `arn:aws:${service}:${region}:${accountId}:${rest}`;
    switch (`${resource?.Type}.${attribute}`) {
      case "AWS::Lambda::Function.Arn":
      case "AWS::Serverless::Function.Arn":
        return arn("lambda", `function:${this.physicalName(logicalId)}`);
      case "AWS::DynamoDB::Table.Arn":
      case "AWS::Serverless::SimpleTable.Arn":
        return arn("dynamodb", `table/${this.physicalName(logicalId)}`);
      case "AWS::IAM::Role.Arn":
        return `arn:aws:iam::${accountId}:role/${this.physicalName(logicalId)}`;
      case "AWS::ApiGatewayV2::Api.ApiId":
        return this.ref(logicalId);
      case "AWS::ApiGatewayV2::Api.ApiEndpoint":
        return `wss://${this.ref(logicalId)}.execute-api.${region}.amazonaws.com`;
      case "AWS::ApiGatewayV2::Route.RouteId":
      case "AWS::ApiGatewayV2::Integration.IntegrationId":
      case "AWS::ApiGatewayV2::Authorizer.AuthorizerId":
        return logicalId;
      default:
        throw new UnresolvableError(
          resource
            ? `Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) is not known locally`
            : `Fn::GetAtt ${logicalId}.${attribute}: no resource ${logicalId}`,
        );
    }
  }
}
