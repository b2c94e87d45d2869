// The official OpenAI Node SDK calling ./bertj serve's /v1/embeddings (run by OpenAIClientsTest).
// Usage: node openai-embeddings.mjs BASE_URL API_KEY TEXTS_JSON_FILE
// Prints one JSON object: the vectors the SDK returned with its default encoding (base64, which it
// decodes) and with "float", the usage and model it read, and the errors it raised for a wrong key
// and for an empty input.
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';

const [baseURL, apiKey, textsFile] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsFile, 'utf8'));
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });

const byDefault = await client.embeddings.create({ model: 'bertj', input: texts });
const asFloat = await client.embeddings.create({ model: 'bertj', input: texts, encoding_format: 'float' });
const single = await client.embeddings.create({ model: 'bertj', input: texts[0] });

async function failure(c, body) {
  try {
    await c.embeddings.create(body);
    return { status: 200 };
  } catch (e) {
    return { status: e.status, name: e.constructor.name, message: e.message };
  }
}
const wrongKey = await failure(new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 }), { model: 'bertj', input: 'x' });
const empty = await failure(client, { model: 'bertj', input: [] });

console.log(JSON.stringify({
  base64: byDefault.data.map(d => Array.from(d.embedding)),
  base64Index: byDefault.data.map(d => d.index),
  float: asFloat.data.map(d => d.embedding),
  single: single.data[0].embedding,
  object: asFloat.object,
  model: asFloat.model,
  usage: asFloat.usage,
  wrongKey,
  empty,
}));
