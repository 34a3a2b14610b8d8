import { expect } from 'chai';
import {
  chatText,
  hipChatNotification,
  hipChatNotificationPath,
  hipChatRoomPath,
  slackPayload,
  SLACK_GREEN,
  SLACK_RED,
} from '../../../../actors/notifications/core/chat-payload.js';

const ok = { is_success: true, prefix: '[OA][42][org/app_docker]', message: 'Workflow completed in 3m' };
const failed = { ...ok, is_success: false, message: 'Workflow has failed in 1m' };

describe('notifications chat payloads', () => {
  it('keeps the original text: prefix, colon, two spaces, message', () => {
    expect(chatText(ok)).to.equal('[OA][42][org/app_docker]:  Workflow completed in 3m');
  });

  const slack: Array<[string, typeof ok, string | null, ReturnType<typeof slackPayload>]> = [
    [
      'success: green',
      ok,
      '<!here>',
      { text: chatText(ok), attachments: [{ color: SLACK_GREEN, fallback: `Succeeded: ${chatText(ok)}`, text: 'Succeeded' }] },
    ],
    [
      'failure: red, with the mention that pings the room',
      failed,
      '<!here>',
      { text: chatText(failed), attachments: [{ color: SLACK_RED, fallback: `Failed <!here>: ${chatText(failed)}`, text: 'Failed <!here>' }] },
    ],
    ['failure without a mention configured', failed, null, { text: chatText(failed), attachments: [{ color: SLACK_RED, fallback: `Failed: ${chatText(failed)}`, text: 'Failed' }] }],
  ];
  for (const [name, message, mention, expected] of slack) {
    it(`slack webhook body, ${name}`, () => expect(slackPayload(message, mention)).to.deep.equal(expected));
  }

  const hipchat: Array<[string, typeof ok, ReturnType<typeof hipChatNotification>]> = [
    [
      'success: green, no ping',
      ok,
      { room_id: 7, color: 'green', message: chatText(ok), notify: false, message_format: 'html', notification_type: 'room_notification' },
    ],
    [
      'failure: red, pings the room',
      failed,
      { room_id: 7, color: 'red', message: chatText(failed), notify: true, message_format: 'html', notification_type: 'room_notification' },
    ],
  ];
  for (const [name, message, expected] of hipchat) {
    it(`HipChat v2 notification, ${name}`, () => expect(hipChatNotification(message, 7)).to.deep.equal(expected));
  }

  it('HipChat paths: the room name and token URL-encoded', () => {
    expect(hipChatRoomPath('Ops & Dev', 't/k')).to.equal('/v2/room/Ops%20%26%20Dev?auth_token=t%2Fk');
    expect(hipChatNotificationPath(7, 'tok')).to.equal('/v2/room/7/notification?auth_token=tok');
  });
});
