// GET /api/health: 200 while the database answers, 503 when it does not.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errors } from './errors.js'
import { ErrorResponse } from './schemas.js'

const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/api/health', {
    schema: { tags: ['health'], summary: 'Liveness and database check', response: { 200: z.object({ status: z.literal('ok') }).passthrough(), 503: ErrorResponse } }
  }, async () => {
    if (!app.storage.healthy()) throw errors.unavailable('The database is not answering.')
    return { status: 'ok' as const }
  })
}

export default healthRoutes
