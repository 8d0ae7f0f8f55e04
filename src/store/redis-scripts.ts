/**
 * The Lua scripts of tenant ownership (Redis runs each atomically; its effects go through the
 * AOF like any write, fsynced before the reply under `appendfsync always`).
 *
 * A lease is the string `epoch|url` at key P l T, with a TTL; P e T counts its epochs. The
 * token a process holds is that whole string, so a process that lost the lease (expired, taken
 * over) and got it back holds a different token, and a commit checks the token it loaded with:
 * a paused old owner cannot commit after losing it (fencing, Kleppmann 2016, "How to do
 * distributed locking"). A process is alive while its heartbeat key P h url exists
 * (cluster/membership.ts); a lease whose holder is not alive may be taken at once.
 */

/**
 * KEYS: lease, epoch counter. ARGV: my url, ttl ms, heartbeat key prefix (P h).
 * Returns the token now held by me (renewed if it was already mine), or the error
 * `HELD <url>` when a live process holds it.
 */
export const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local bar = string.find(cur, '|', 1, true)
  local holder = string.sub(cur, bar + 1)
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return cur
  end
  if redis.call('EXISTS', ARGV[3] .. holder) == 1 then
    return redis.error_reply('HELD ' .. holder)
  end
end
local tok = redis.call('INCR', KEYS[2]) .. '|' .. ARGV[1]
redis.call('SET', KEYS[1], tok, 'PX', ARGV[2])
return tok
`;

/**
 * KEYS: the lease of every tenant written. ARGV: n, ttl ms, n tokens, then the writes:
 * 'h' key field value (HSET) | 'd' key field (HDEL) | 'z' key score member (ZADD).
 * Applies the writes only if every lease still holds its token (then renews them), else the
 * error `FENCED <i>` (1-based index of the first lost lease) and nothing is written.
 */
export const COMMIT = `
local n = tonumber(ARGV[1])
for i = 1, n do
  if redis.call('GET', KEYS[i]) ~= ARGV[2 + i] then
    return redis.error_reply('FENCED ' .. i)
  end
end
for i = 1, n do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
local a = 3 + n
while a <= #ARGV do
  local op = ARGV[a]
  if op == 'h' then redis.call('HSET', ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]); a = a + 4
  elseif op == 'd' then redis.call('HDEL', ARGV[a + 1], ARGV[a + 2]); a = a + 3
  elseif op == 'z' then redis.call('ZADD', ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]); a = a + 4
  else return redis.error_reply('BADOP ' .. tostring(op)) end
end
return n
`;

/** KEYS: a lease. ARGV: my token. Deletes the lease if it is still mine (graceful hand-over). */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
