// The OpenAPI document, generated from the route schemas, and its UI at /docs.
// @fastify/swagger-ui serves swagger-ui's files from its own package: /docs works
// without internet access.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export async function installOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Trainyard',
        description: 'Train dense neural networks on demand: submit a job spec, poll its status, read its metrics.',
        version: '1',
      },
      tags: [
        { name: 'jobs', description: 'Submit, list, inspect and cancel training jobs' },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
