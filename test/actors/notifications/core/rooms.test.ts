import { expect } from 'chai';
import { roomsFor, webhookFor, type Rooms, type Webhook } from '../../../../actors/notifications/core/rooms.js';

describe('notifications roomsFor (reference §9.2, room_names honoured)', () => {
  const noRoom = 'the chat message names no room (room_names) and no default room is configured (HIPCHAT_DEFAULT_ROOM_NAME)';
  const cases: Array<[string, string[] | null | undefined, string | null, Rooms]> = [
    ['room_names given: exactly those rooms, not the default', ['Ops', 'Dev'], 'General', { ok: true, rooms: ['Ops', 'Dev'] }],
    ['room_names null: the default room', null, 'General', { ok: true, rooms: ['General'] }],
    ['room_names absent: the default room', undefined, 'General', { ok: true, rooms: ['General'] }],
    ['room_names empty: the default room', [], 'General', { ok: true, rooms: ['General'] }],
    ['a room named twice is sent once', ['Ops', 'Ops', ' Ops '], null, { ok: true, rooms: ['Ops'] }],
    ['blank names are ignored', ['  '], 'General', { ok: true, rooms: ['General'] }],
    ['no rooms and no default: an error naming both', null, null, { ok: false, reason: noRoom }],
    ['an empty default counts as none', [], '', { ok: false, reason: noRoom }],
  ];
  for (const [name, roomNames, defaultRoom, expected] of cases) {
    it(name, () => expect(roomsFor(roomNames, defaultRoom)).to.deep.equal(expected));
  }
});

describe('notifications webhookFor', () => {
  const hooks = { Ops: 'http://127.0.0.1:1/ops', Dev: 'http://127.0.0.1:1/dev' };
  const cases: Array<[string, string, Record<string, string>, Webhook]> = [
    ['a mapped room', 'Ops', hooks, { ok: true, url: 'http://127.0.0.1:1/ops' }],
    ['an unmapped room is named, with the rooms that are mapped', 'QA', hooks, { ok: false, reason: 'no webhook is configured for room "QA" (OA_CHAT_WEBHOOKS maps "Ops", "Dev")' }],
    ['no mapping at all', 'Ops', {}, { ok: false, reason: 'no webhook is configured for room "Ops" (OA_CHAT_WEBHOOKS maps no room)' }],
    ['an inherited property is not a room', 'toString', hooks, { ok: false, reason: 'no webhook is configured for room "toString" (OA_CHAT_WEBHOOKS maps "Ops", "Dev")' }],
  ];
  for (const [name, room, map, expected] of cases) {
    it(name, () => expect(webhookFor(room, map)).to.deep.equal(expected));
  }
});
