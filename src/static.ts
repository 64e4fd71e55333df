// The web client from public/ at `/`.
// @see https://github.com/fastify/fastify-static
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { fileURLToPath } from 'node:url'

export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))

const staticFiles: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', dotfiles: 'ignore', index: 'index.html', wildcard: true })
  // Uploads at /media/ are served by src/uploads/plugin.ts (type, name and headers from the media table).
}

export default staticFiles
