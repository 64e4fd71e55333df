// The OpenAPI document, generated from the same zod schemas that validate requests, at /docs.
// @see https://github.com/fastify/fastify-swagger
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

const docs: FastifyPluginAsync = async (app) => {
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Secure Chat', description: 'REST API of Secure Chat. The WebSocket protocol at /ws is described in the README.', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }]
    },
    transform: jsonSchemaTransform
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
}

// fp: swagger must see the routes registered after it, across the whole app.
export default fp(docs, { name: 'docs' })
