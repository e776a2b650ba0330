/** One thing read from a Server-Sent Events stream. */
export interface StreamEvent {
  /** The `event:` name (`message` when absent), or `comment` / `retry` for those lines. */
  readonly type: string;
  readonly data: string;
  readonly id?: string;
}

/** An open SSE connection, read event by event. For tests. */
export interface EventStream {
  readonly response: Response;
  /** The next event that matches `accept` (default: any); rejects after `timeoutMs` (default 10 s). */
  next(accept?: (event: StreamEvent) => boolean, timeoutMs?: number): Promise<StreamEvent>;
  /** Reads (and drops) events until the server ends the stream; rejects after `timeoutMs` (default 10 s). */
  ended(timeoutMs?: number): Promise<void>;
  /** Closes the connection from this side. */
  close(): Promise<void>;
}

function parseBlock(block: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  let type = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) events.push({ type: 'comment', data: line.slice(1).trim() });
    else if (line.startsWith('retry:')) events.push({ type: 'retry', data: line.slice(6).trim() });
    else if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length > 0) events.push({ type, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
  return events;
}

/**
 * Opens `url` with fetch and parses its `text/event-stream` body (a small SSE reader: the
 * event, id, data, retry and comment lines the status page uses).
 */
export async function openEventStream(url: string): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
  if (!response.body) throw new Error(`${url} answered ${response.status} without a body`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const queue: StreamEvent[] = [];
  let buffer = '';
  let done = false;

  let reading: Promise<void> | undefined;
  // One read at a time; a read outliving a timed-out next() still queues its events.
  const fillOnce = (): Promise<void> => (reading ??= fill().finally(() => (reading = undefined)));

  async function fill(): Promise<void> {
    const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (chunk.done) {
      done = true;
      return;
    }
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      queue.push(...parseBlock(buffer.slice(0, end)));
      buffer = buffer.slice(end + 2);
    }
  }

  async function next(accept: (event: StreamEvent) => boolean = () => true, timeoutMs = 10_000): Promise<StreamEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (queue.length > 0) {
          const event = queue.shift()!;
          if (accept(event)) return event;
        }
        if (done) throw new Error(`${url}: the stream ended`);
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`${url}: no matching event within ${timeoutMs} ms`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          fillOnce(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, remaining);
          }),
        ]).finally(() => clearTimeout(timer));
      }
  }

  return {
    response,
    next,
    async ended(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done) {
        if (Date.now() > deadline) throw new Error(`${url}: the stream did not end within ${timeoutMs} ms`);
        await next(() => false, deadline - Date.now()).catch(() => undefined);
      }
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}
