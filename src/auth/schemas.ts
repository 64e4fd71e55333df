import { z } from 'zod'
import { Text, UserSchema } from '../schemas.js'

// ASCII only: no invisible, bidi or look-alike characters, and NFKC leaves it as it is, so
// COLLATE NOCASE is all the comparison a username needs.
export const Username = Text
  .min(3, 'must be at least 3 characters')
  .max(32, 'must be at most 32 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'may only hold letters A–Z, digits and _ . -')

// bcrypt reads only the first 72 bytes: longer is refused, never silently cut.
export const Password = Text
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .refine((value) => Buffer.byteLength(value, 'utf8') <= 72, 'must be at most 72 bytes of UTF-8')

export const Credentials = z.strictObject({ username: Username, password: Password })

// Logging in checks only the shape: the rules above apply when choosing a password, and telling
// "too short" apart from "wrong" would say more than a login should.
export const LoginBody = z.strictObject({
  username: Text.min(1).max(64),
  password: Text.min(1).max(128).refine((value) => Buffer.byteLength(value, 'utf8') <= 72, 'must be at most 72 bytes of UTF-8')
})

export const TokenResponse = z.object({
  token: z.string(),
  tokenType: z.literal('bearer'),
  expiresAt: z.string(),
  user: UserSchema
})
