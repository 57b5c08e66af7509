/**
 * Lets V8 store an AWS SDK v3 client's resolved config as a fast object again.
 *
 * The SDK builds `client.config` with dozens of `Object.assign` calls, which leave it in V8's
 * dictionary mode, and every command copies it with object spread three or four times (serializer,
 * deserializer, endpoint resolution, signer): about 10 µs a copy. V8 makes an object that serves as
 * a prototype fast again, so the client's config becomes one. Nothing else changes: the same object
 * with the same values. Measured by `npm run bench:client`: about a third less CPU per command.
 */
export function makeConfigFast(client: { config: object }): void {
  Object.create(client.config);
}
