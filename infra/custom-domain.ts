/**
 * A domain of one's own for the WebSocket API: its regional domain name and the mapping to the stage.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CustomDomainSettings {
  /** Where clients connect instead, e.g. `chat.example.com`. */
  domainName: string;
  /** An ACM certificate for it, in the stack's region. */
  certificateArn: string;
}

/**
 * The API under a domain of one's own: a regional domain name (the only kind a WebSocket API may
 * have, TLS 1.2) mapped to the stage, so clients connect to `wss://{domainName}`. Its DNS record
 * (CNAME or alias) points at `targetDomainName`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-custom-domain-names.html
 */
export function createCustomDomain(
  parent: pulumi.Resource,
  name: string,
  args: CustomDomainSettings & { apiId: pulumi.Input<string>; stage: pulumi.Input<string> },
): { url: pulumi.Output<string>; targetDomainName: pulumi.Output<string> } {
  const domain = new aws.apigatewayv2.DomainName(
    `${name}-domain`,
    {
      domainName: args.domainName,
      domainNameConfiguration: {
        certificateArn: args.certificateArn,
        endpointType: "REGIONAL",
        securityPolicy: "TLS_1_2",
      },
    },
    { parent },
  );
  const mapping = new aws.apigatewayv2.ApiMapping(
    `${name}-domain-mapping`,
    { apiId: args.apiId, domainName: domain.id, stage: args.stage },
    { parent },
  );
  return {
    url: pulumi.interpolate`wss://${mapping.domainName}`,
    targetDomainName: domain.domainNameConfiguration.targetDomainName,
  };
}

/** Checks the domain settings before anything is declared: both or neither, and well-formed. */
export function validateCustomDomain(domain: Partial<CustomDomainSettings>): CustomDomainSettings | undefined {
  const { domainName, certificateArn } = domain;
  if (domainName === undefined && certificateArn === undefined) return undefined;
  if (!domainName || !certificateArn) {
    throw new Error("customDomainName and customDomainCertificateArn go together: set both or neither");
  }
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domainName)) {
    throw new Error(`customDomainName must be a lower-case host name like chat.example.com, got ${domainName}`);
  }
  if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(certificateArn)) {
    throw new Error(`customDomainCertificateArn must be an ACM certificate ARN, got ${certificateArn}`);
  }
  return { domainName, certificateArn };
}
