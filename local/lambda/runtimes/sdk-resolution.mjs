/**
 * A module resolution hook for Node.js function processes: `import "@aws-sdk/..."` that the
 * function's own folders cannot satisfy is resolved from the gateway's installation, as Lambda's
 * Node.js runtimes provide the AWS SDK v3 to code that declares no dependency on it (AWS's
 * simple-websockets-chat-app declares none). A copy in the function's `node_modules` wins, as it
 * does in Lambda. Registered by `./node-bootstrap.cjs`, which does the same for `require`.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
 */
let providerURL;

export function initialize(data) {
  providerURL = data.providerURL;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !/^@(aws-sdk|smithy)\//.test(specifier)) throw error;
    return nextResolve(specifier, { ...context, parentURL: providerURL });
  }
}
