// The web client from public/ at `/`, and uploaded files from MEDIA_DIR at `/media/`.
// @see https://github.com/fastify/fastify-static
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))

const staticFiles: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', dotfiles: 'ignore', index: 'index.html', wildcard: true })

  mkdirSync(app.config.mediaDir, { recursive: true })
  await app.register(fastifyStatic, {
    root: app.config.mediaDir,
    prefix: '/media/',
    decorateReply: false, // the first registration owns reply.sendFile
    dotfiles: 'ignore',
    index: false,
    list: false,
    setHeaders (reply) {
      // Nothing a user uploaded may run in our origin.
      reply.header('X-Content-Type-Options', 'nosniff')
      reply.header('Content-Security-Policy', "default-src 'none'; sandbox")
    }
  })
}

export default staticFiles
