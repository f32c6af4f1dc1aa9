// Retry tests wait through real backoff (seconds, with jitter); on a busy 2-core machine that can
// pass Jest's 5 s default.
jest.setTimeout(30_000);
