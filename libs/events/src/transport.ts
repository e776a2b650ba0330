/** A message to publish. `key` picks the partition, so one key's messages stay in order. */
export interface TransportMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A message as a consumer receives it. */
export interface ReceivedMessage {
  topic: string;
  partition: number;
  /** The message's offset in its partition, as a decimal string (Kafka offsets are int64). */
  offset: string;
  key: string;
  value: Buffer;
  /** Header values as UTF-8 strings; a repeated Kafka header is joined with `,`. */
  headers: Record<string, string>;
  /** When the broker (or the in-process bus) accepted it, in milliseconds since the epoch. */
  timestamp: number;
}

/** A running subscription. */
export interface Subscription {
  /** Stops consuming; resolves after the handler call in flight (if any) has settled. */
  stop(): Promise<void>;
}

/** Options for {@link EventTransport.subscribe}. */
export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed position starts: the oldest message (true) or new ones only (default). */
  fromBeginning?: boolean;
  /** Moves the group's position to the first message at or after this time (ms since epoch) before starting. */
  fromTimestamp?: number;
  /**
   * Told the group's consumer lag on a topic whenever it changes: the messages after the last
   * one handled, summed over the partitions this subscription holds (Kafka: from each fetch's
   * high watermark, so it is as fresh as the latest fetch; in-process: messages queued for
   * the group). Must not throw.
   */
  onLag?: (lag: { topic: string; messages: number }) => void;
  /**
   * Called once per message, in order per partition. The message counts as consumed (its
   * offset is committed) only after this resolves; if it throws, the message is not
   * committed and is delivered again.
   */
  handler: (message: ReceivedMessage) => Promise<void>;
}

/** What the relay and consumers need from a message bus: Kafka, or the in-process bus. */
export interface EventTransport {
  /** `messaging.system` of the spans over this transport: `kafka`, or `jamey_in_process`. Default `kafka`. */
  readonly system?: string;
  /** Creates the topics that do not exist yet. Idempotent. */
  ensureTopics(topics: string[], signal?: AbortSignal): Promise<void>;
  /** Publishes `messages` to `topic`, in order per key. */
  send(topic: string, messages: TransportMessage[], signal?: AbortSignal): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Resolves when the broker answers a cheap request (Kafka: cluster metadata), rejects with
   * DEPENDENCY_UNAVAILABLE naming `kafka` when it does not. The in-process bus always answers.
   * For readiness checks; optional so that test wrappers need not forward it.
   */
  ping?(signal?: AbortSignal): Promise<void>;
  /** Stops every subscription and disconnects. */
  close(): Promise<void>;
}
