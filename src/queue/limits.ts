/** The queue's fixed settings (kept apart from the BullMQ client, which commands load only when they use a queue). */
export const QUEUE_NAME = "memhyper";
/** How long a silent worker keeps a job before it counts as stalled and goes to another worker. */
export const DEFAULT_LOCK_MS = 60_000;
/** Times a stalled job is handed to another worker before it fails. */
export const MAX_STALLED = 3;
/** An unreachable Redis fails within this time. */
export const CONNECT_TIMEOUT_MS = 5_000;
