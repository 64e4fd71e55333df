// `npm run admin -- grant <username>` and `npm run admin -- revoke <username>`: server
// administrators (API.md "Moderation": owner rights in every public and private room, never in a
// DM they are not part of). The first account of a new database is one already. Works on the
// database DATABASE_URL names, SQLite or PostgreSQL; takes effect at the user's next request
// (open sockets keep what they had until they reconnect).
import { FernetRing } from '../crypto/fernet.js'
import { openStore } from '../storage/index.js'
import { MaintenanceError } from '../storage/maintenance.js'
import { fail, loadSettings } from './common.js'

const USAGE = 'Usage: npm run admin -- grant <username> | revoke <username>'

async function main (): Promise<void> {
  const [verb, username, ...rest] = process.argv.slice(2)
  if ((verb !== 'grant' && verb !== 'revoke') || username === undefined || rest.length > 0) throw new MaintenanceError(USAGE)
  const config = loadSettings()
  const store = await openStore(config.database, new FernetRing(config.encryptionKeys), { log: (message) => console.log(message) })
  try {
    const user = await store.users.setAdmin(username, verb === 'grant')
    if (user === null) throw new MaintenanceError(`No account is named "${username}".`)
    console.log(verb === 'grant' ? `${user.username} is now a server administrator.` : `${user.username} is no longer a server administrator.`)
  } finally {
    await store.close()
  }
}

main().catch((error: unknown) => fail('admin', error))
