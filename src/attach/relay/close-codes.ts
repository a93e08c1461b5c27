/** WebSocket close codes the gateway sends to attach clients (documented in openapi/attach.md). */
export const CloseCode = {
  /** The session ended: the process exited or the container detached us. */
  normal: 1000,
  /** The gateway is shutting down. */
  goingAway: 1001,
  /** The upstream connection failed or ended without a status. */
  upstreamError: 1011,
  /** The maximum session duration (config or policy) was reached. */
  maxDuration: 4000,
  /** No input or output for idleTimeoutSeconds. */
  idle: 4001,
  /** The client sent a message that is not valid for its protocol. */
  badMessage: 4002,
  /** The client did not answer pings. */
  keepalive: 4003,
  /** The debug session's expiresAt was reached (its TTL capped the session). */
  sessionExpired: 4004
} as const
