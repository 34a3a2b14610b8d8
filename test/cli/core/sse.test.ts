import { expect } from 'chai';
import { parseSse, SSE_START, type SseEvent } from '../../../cli/core/sse.js';

/** All events of a stream cut into `chunks`, the state carried between them. */
function eventsOf(chunks: readonly string[]): SseEvent[] {
  let state = SSE_START;
  const out: SseEvent[] = [];
  for (const chunk of chunks) {
    const parsed = parseSse(state, chunk);
    state = parsed.state;
    out.push(...parsed.events);
  }
  return out;
}

describe('cli/core/sse parseSse', () => {
  const cases: Array<{ name: string; chunks: string[]; events: SseEvent[] }> = [
    { name: 'one event', chunks: ['event: build_log\ndata: {"logs":["a"]}\n\n'], events: [{ event: 'build_log', data: '{"logs":["a"]}' }] },
    { name: 'no event name is "message"', chunks: ['data: x\n\n'], events: [{ event: 'message', data: 'x' }] },
    { name: 'several data lines join with newlines', chunks: ['data: a\ndata: b\n\n'], events: [{ event: 'message', data: 'a\nb' }] },
    { name: 'an event split across chunks, mid-line', chunks: ['event: build_', 'log\ndata: {"lo', 'gs":[]}\n', '\n'], events: [{ event: 'build_log', data: '{"logs":[]}' }] },
    { name: 'CRLF line ends, split between CR and LF', chunks: ['data: a\r', '\n\r', '\n'], events: [{ event: 'message', data: 'a' }] },
    { name: 'lone CR line ends', chunks: ['data: a\r\rdata: b\r\r', 'data: c\n\n'], events: [{ event: 'message', data: 'a' }, { event: 'message', data: 'b' }, { event: 'message', data: 'c' }] },
    { name: 'comments and unknown fields are ignored', chunks: [': keep-alive\nid: 7\nretry: 10\nevent: end\ndata: {}\n\n'], events: [{ event: 'end', data: '{}' }] },
    { name: 'an event without data is not dispatched', chunks: ['event: build_log\n\n'], events: [] },
    { name: 'no space after the colon', chunks: ['data:x\n\n'], events: [{ event: 'message', data: 'x' }] },
    { name: 'an unfinished event waits', chunks: ['data: x\n'], events: [] },
    { name: 'the event name resets after dispatch', chunks: ['event: end\ndata: 1\n\ndata: 2\n\n'], events: [{ event: 'end', data: '1' }, { event: 'message', data: '2' }] },
  ];
  for (const c of cases) {
    it(c.name, () => expect(eventsOf(c.chunks)).to.deep.equal(c.events));
  }

  it('gives the same events however the stream is cut', () => {
    const stream = 'event: build_log\r\ndata: {"logs":["step 1/3"]}\r\n\r\n: ping\n\nevent: end\ndata: {}\n\n';
    const whole = eventsOf([stream]);
    for (let cut = 1; cut < stream.length; cut += 1) expect(eventsOf([stream.slice(0, cut), stream.slice(cut)]), `cut at ${cut}`).to.deep.equal(whole);
    expect(whole).to.have.length(2);
  });
});
