// The three documents of docs/, loaded the way their users load them: the AsyncAPI document by the
// official AsyncAPI parser, the OpenAPI document by swagger-parser, protocol.md as text. Exists for
// the docs tests only: add a reader here when a second test file needs it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';

export const docsDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoDir = join(docsDir, '..');

/** Spectral's severities, as the AsyncAPI parser reports them: 0 error, 1 warning, 2 info, 3 hint. */
const WARNING = 1;

/** The parsed AsyncAPI document (references resolved) and what the parser said that matters. */
export async function loadAsyncApi() {
  const { document, diagnostics } = await new Parser().parse(readFileSync(join(docsDir, 'asyncapi.yaml'), 'utf8'));
  const problems = diagnostics.filter((d) => d.severity <= WARNING).map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
  return { json: document?.json(), problems };
}

/** The OpenAPI document after swagger-parser validated it (references resolved). */
export function loadOpenApi() {
  return SwaggerParser.validate(join(docsDir, 'openapi.yaml'));
}

export const protocolMd = () => readFileSync(join(docsDir, 'protocol.md'), 'utf8');

/** The suffixes of every `<a id="PREFIX…"></a>` anchor in protocol.md: how it marks each frame and code. */
export function anchors(md, prefix) {
  return [...md.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]).filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
}

/**
 * The WebSocket frames of the AsyncAPI document, by direction: client frames are the messages of
 * `receive` operations on `/ws`, server frames those of its `send` operations and of every reply.
 * Each entry: the frame `type` (the payload's `const`), the message name, its payload and examples.
 */
export function socketFrames(json) {
  const client = new Map();
  const server = new Map();
  for (const operation of Object.values(json.operations)) {
    if (operation.channel.address !== '/ws') continue;
    const into = operation.action === 'receive' ? client : server;
    for (const message of operation.messages) add(into, message);
    for (const message of operation.reply?.messages ?? []) add(server, message);
  }
  return { client, server };
}

function add(into, message) {
  const type = message.payload.properties.type.const;
  into.set(type, { type, name: message['x-parser-message-name'], payload: message.payload, examples: (message.examples ?? []).map((e) => e.payload) });
}

/** The MQTT channels: address, parameter names, and the operation's action on it. */
export function mqttChannels(json) {
  return Object.values(json.operations)
    .filter((operation) => operation.channel.address !== '/ws')
    .map((operation) => ({
      address: operation.channel.address,
      action: operation.action,
      parameters: Object.keys(operation.channel.parameters ?? {}),
      messages: operation.messages,
    }));
}

/**
 * A JSON Schema validator for payloads as the AsyncAPI parser returns them: strict, so a misspelt
 * keyword in the document fails here, with the parser's own annotation keyword allowed.
 */
export function payloadValidator() {
  const ajv = new Ajv({ strict: true, allErrors: true });
  ajv.addVocabulary(['x-parser-schema-id']);
  const compiled = new Map();
  return (schema, value) => {
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
    const validate = compiled.get(schema);
    return validate(value) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  };
}
