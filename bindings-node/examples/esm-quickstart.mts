// `partly` from an ES module (type-checked by the test suite; the same code runs as .mjs).
import { Client, NotFoundError } from 'partly';
import { MockServer } from 'partly/testing';

const mock = await MockServer.start();
const client: Client = mock.client();
try {
  await client.jobs.get({ external: 'NO-SUCH-JOB' });
} catch (error) {
  if (!(error instanceof NotFoundError)) throw error;
  console.log(`${error.code} after ${error.attempts} attempt(s)`);
}
await client.close();
await mock.stop();
