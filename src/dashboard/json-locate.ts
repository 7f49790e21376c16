// Where each JSON pointer's value sits in a JSON text (start and end offsets), so a
// 400's pointer can select its field in the editor. A recursive-descent scan of
// JSON.parse's grammar that records offsets instead of building values; on a syntax
// error it returns what it found so far.
export interface Span { start: number; end: number }

export function locatePointers(text: string): Map<string, Span> {
  const spans = new Map<string, Span>();
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i]!)) i++; };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const esc = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  const value = (pointer: string): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else for (;;) {
        ws();
        const key = str();
        ws();
        i++; // ':'
        value(`${pointer}/${esc(key)}`);
        ws();
        if (text[i++] === '}') break;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else for (let k = 0; ; k++) {
        value(`${pointer}/${k}`);
        ws();
        if (text[i++] === ']') break;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    }
    if (i === start) throw new Error('unexpected end');
    spans.set(pointer, { start, end: i });
  };
  try {
    value('');
  } catch {
    // a syntax error: JSON.parse reports it; the spans found so far still help
  }
  return spans;
}

/** The span of `pointer`, else of its nearest ancestor that exists (a missing field's object). */
export function spanFor(spans: Map<string, Span>, pointer: string): Span | null {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
    const s = spans.get(p);
    if (s) return s;
    if (p === '') return null;
  }
}
