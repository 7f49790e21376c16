// A text/event-stream parser for fetch() bodies (EventSource cannot send an
// Authorization header). Follows the WHATWG rules that matter here: lines end in
// \n, \r\n or \r; `field: value` with one optional space after the colon; lines
// starting with ':' are comments; a blank line dispatches; `id:` persists across events.
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private pendingCr = false;
  /** the last `id:` seen, sent back as Last-Event-ID on reconnect */
  lastEventId: string | null = null;
  /** the server's `retry:` in ms, if it sent one */
  retryMs: number | null = null;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1); // the \n of a \r\n split across chunks
    this.pendingCr = false;
    this.buffer += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      if (m[0] === '\r' && m.index === this.buffer.length - 1) {
        this.pendingCr = true;
      }
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        this.onEvent({ id: this.lastEventId, event: this.eventType || 'message', data: this.data.join('\n') });
      }
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) this.retryMs = Number(value);
  }
}
