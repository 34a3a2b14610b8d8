import { z } from 'zod';

/** A numeric id in a path: a bad one is a 400 naming `params.id`, not a database error. */
export const IdParams = z.strictObject({ id: z.coerce.number<string>().int().positive().max(2_147_483_647) });

/** Any nullable foreign key in a body. */
export const OptionalId = z.number().int().positive().max(2_147_483_647).nullable().optional();

/**
 * Control characters (Unicode category Cc) as a character-class body. Spelled out, with no regex flags: zod-to-openapi
 * copies a pattern's source and appends its flags (`.../u`), which no client's validator can read back.
 */
export const CONTROL_CHARACTERS = '\\x00-\\x1f\\x7f-\\x9f';

/** A required name: trimmed, 1..255 characters. */
export const Name = (max = 255) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

/** Row timestamps as JSON gives them: ISO 8601. */
export const Timestamps = { inserted_at: z.iso.datetime(), updated_at: z.iso.datetime() };
