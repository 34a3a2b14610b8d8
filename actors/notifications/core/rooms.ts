/**
 * Which chat rooms a message goes to. Deliberate change (reference §9.2): the original sent to the default room plus
 * a `hipchat_rooms` key nobody set, so `room_names` was ignored; here the message's `room_names` are the rooms, and
 * the default room (HIPCHAT_DEFAULT_ROOM_NAME) is used only when it names none.
 */

export type Rooms = { readonly ok: true; readonly rooms: readonly string[] } | { readonly ok: false; readonly reason: string };

export function roomsFor(roomNames: readonly string[] | null | undefined, defaultRoom: string | null): Rooms {
  const named = [...new Set((roomNames ?? []).map((r) => r.trim()).filter((r) => r !== ''))];
  if (named.length > 0) return { ok: true, rooms: named };
  if (defaultRoom !== null && defaultRoom !== '') return { ok: true, rooms: [defaultRoom] };
  return { ok: false, reason: 'the chat message names no room (room_names) and no default room is configured (HIPCHAT_DEFAULT_ROOM_NAME)' };
}

export type Webhook = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly reason: string };

/** The incoming webhook of `room`; an unmapped room is named, with the variable that maps rooms. */
export function webhookFor(room: string, webhooks: Readonly<Record<string, string>>): Webhook {
  const url = Object.hasOwn(webhooks, room) ? webhooks[room] : undefined;
  if (url !== undefined) return { ok: true, url };
  const known = Object.keys(webhooks);
  return {
    ok: false,
    reason: `no webhook is configured for room ${JSON.stringify(room)} (OA_CHAT_WEBHOOKS maps ${known.length > 0 ? known.map((k) => JSON.stringify(k)).join(', ') : 'no room'})`,
  };
}
