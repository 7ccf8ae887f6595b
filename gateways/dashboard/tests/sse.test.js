import { describe, expect, it } from 'vitest';
import { parseSse } from '../src/sse.js';

describe('parseSse', () => {
  it('splits complete frames and keeps the incomplete rest for the next chunk', () => {
    const { frames, rest } = parseSse('id: 7\nevent: certificate.issued\ndata: {"a":1}\n\nid: 8\nda');
    expect(frames).toEqual([{ id: '7', event: 'certificate.issued', data: '{"a":1}' }]);
    expect(rest).toBe('id: 8\nda');
    const next = parseSse(rest + 'ta: {"b":2}\n\n');
    expect(next.frames).toEqual([{ id: '8', event: 'message', data: '{"b":2}' }]);
    expect(next.rest).toBe('');
  });

  it('drops keep-alive comments and joins multi-line data', () => {
    const { frames } = parseSse(': stream after position 3\n\ndata: line1\ndata: line2\n\n');
    expect(frames).toEqual([{ id: null, event: 'message', data: 'line1\nline2' }]);
  });

  it('accepts CRLF line endings', () => {
    expect(parseSse('id: 1\r\ndata: x\r\n\r\n').frames).toEqual([{ id: '1', event: 'message', data: 'x' }]);
  });
});
