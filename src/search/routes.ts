// GET /api/search (API.md "Search"). The query string is never logged (logger.ts redacts `q`).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { errors } from '../errors.js'
import { authErrors, ErrorResponse } from '../schemas.js'
import { QueryError } from './query.js'
import { SearchQuery, SearchResponse } from './schemas.js'
import type { SearchService } from './service.js'

/** `service` null: SEARCH_INDEX=off, and every search answers 503. */
export function searchRoutes (service: SearchService | null): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', app.authenticate)
    app.get('/api/search', {
      schema: {
        tags: ['search'],
        summary: 'Search every room the caller may read (or one): words, "phrases", prefix*, from:username',
        querystring: SearchQuery,
        response: { 200: SearchResponse, 400: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse, ...authErrors }
      },
      // Results are messages the storage layer built field by field (as a history page is) and
      // snippets made here: checking them against the schema on the way out cost a tenth of a search.
      serializerCompiler: () => (data) => JSON.stringify(data)
    }, async (request) => {
      if (service === null) throw errors.unavailable('Search is turned off on this server (SEARCH_INDEX=off).')
      try {
        return await service.search({ id: request.user.id, isAdmin: (request.user as { isAdmin?: boolean }).isAdmin === true }, request.query)
      } catch (error) {
        if (error instanceof QueryError) throw errors.validation(error.message, [{ path: 'q', message: error.message }])
        throw error
      }
    })
  }
}
