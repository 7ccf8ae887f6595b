// The live event stream (GET /api/v1/events/stream) read with fetch() and a ReadableStream
// reader, not EventSource: EventSource cannot send the Authorization header, and the key must
// not go into the URL. Reconnects with Last-Event-ID, so no event is lost across a drop.

import { authHeaders, sawPosition, url } from './api.js';

/**
 * Splits Server-Sent Events text into frames. Returns the complete frames and the unparsed
 * rest (an incomplete frame), to be prefixed to the next chunk. Comment lines (": ...") are
 * keep-alives and are dropped; multi-line data fields are joined with "\n".
 */
export function parseSse(buffer) {
  const frames = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  let start = 0;
  for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
    const block = text.slice(start, end);
    start = end + 2;
    const frame = { id: null, event: 'message', data: [] };
    let any = false;
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') frame.data.push(value);
      else continue;
      any = true;
    }
    if (any) frames.push({ ...frame, data: frame.data.join('\n') });
  }
  return { frames, rest: text.slice(start) };
}

/**
 * One stream, shared by every page: listeners get each event ({position, type, ...} as the API
 * sends it) and state changes ('connecting' | 'live' | 'retrying' | 'closed').
 */
export class EventStream {
  constructor() {
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.state = 'closed';
    this.lastId = null;
    this.controller = null;
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn) {
    this.stateListeners.add(fn);
    fn(this.state);
    return () => this.stateListeners.delete(fn);
  }

  setState(s) {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  /** Starts after `after` (a position; the events after it are delivered, then live ones). */
  start(after) {
    this.stop();
    this.lastId = String(after);
    this.controller = new AbortController();
    this.run(this.controller.signal);
  }

  stop() {
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.setState('closed');
  }

  async run(signal) {
    let delay = 500;
    while (!signal.aborted) {
      this.setState('connecting');
      try {
        const res = await fetch(url('/api/v1/events/stream'), {
          headers: { ...authHeaders(), Accept: 'text/event-stream', 'Last-Event-ID': this.lastId },
          credentials: 'omit',
          cache: 'no-store',
          signal,
        });
        if (res.status === 401 || res.status === 403) {
          this.setState('closed');
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        this.setState('live');
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const { frames, rest } = parseSse(buffer + value);
          buffer = rest;
          for (const f of frames) this.deliver(f);
        }
      } catch (e) {
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      this.setState('retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }

  deliver(frame) {
    if (frame.id) this.lastId = frame.id;
    let event;
    try {
      event = JSON.parse(frame.data);
    } catch {
      return;
    }
    sawPosition(event.position);
    for (const fn of this.listeners) fn(event);
  }
}

export const stream = new EventStream();
