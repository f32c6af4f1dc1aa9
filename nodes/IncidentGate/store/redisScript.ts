/**
 * The gate's state machine in Lua, run inside Redis as one script per event, so a decision and its
 * write are one atomic step whatever the number of n8n processes. It follows stateMachine.ts rule
 * for rule (property tests run both on the same random sequences), on a layout where every step is
 * O(1) or O(log n):
 *
 * - `<prefix>s:<scope>`: hash with the scope's fields (st status, aa activatedAt, wd withdrawDueAt,
 *   op open, rm remembered, ov overflow, os overflowSeen, pn/pa pending emits and time) and one
 *   field `i:<id>` per incident record, "o|r|s|title";
 * - `<prefix>x:<scope>`: sorted set of incident ids by the time tick must look at them (expiry or
 *   forgetting);
 * - KEYS[1] set of scopes, KEYS[2] hash open incident id -> scope, KEYS[3] sorted set of scopes by
 *   next due time, KEYS[4] the gate clock (milliseconds; never goes back, even if the server clock
 *   does).
 *
 * ARGV: operation, key prefix, scope, incident id, event time, title, active ('1', '0' or '' for a
 * failed provider item), the caller's clock (the gate clock is at least this), then the settings:
 * minimum active, withdraw delay, maximum incident age, resolve memory (all ms), max open
 * incidents, re-emit interval (ms), max re-emits. Operation `tick` decides on up to ARGV[16] due
 * scopes.
 *
 * Returns one array per scope decided on: scope, transition, reason, status ('' once forgotten),
 * unresolved count, overflow, pending (0/1), activatedAt (or that of the mitigation a Withdraw
 * ends), withdrawDueAt, then expired ids.
 */
export const GATE_SCRIPT = `
local op, P = ARGV[1], ARGV[2]
local minActive, withdrawDelay = tonumber(ARGV[9]), tonumber(ARGV[10])
local maxAge, memory, maxOpen = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local interval, maxReemits = tonumber(ARGV[14]), tonumber(ARGV[15])
local KS, KO, KD, KC = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KC) or '0')
if last > now then now = last end
local floor = tonumber(ARGV[8]) or 0
if floor > now then now = floor end
redis.call('SET', KC, string.format('%.17g', now))

local function fmt(x) return string.format('%.17g', x) end
local function num(v)
  if v == false or v == nil or v == '' then return nil end
  return tonumber(v)
end
local FIELDS = { 'st', 'aa', 'wd', 'op', 'rm', 'ov', 'os', 'pn', 'pa' }

-- The first release kept each scope as JSON in <prefix>scope:<scope>: carry it over once.
local function upgrade(scope, H, X)
  local old = P .. 'scope:' .. scope
  local json = redis.call('HGET', old, 'state')
  if not json then return end
  local state = cjson.decode(json)
  local open, remembered = 0, 0
  for _, r in ipairs(state.recentResolves or {}) do
    redis.call('HSET', H, 'i:' .. r.id, '|' .. fmt(r.at) .. '|' .. fmt(r.at) .. '|')
    redis.call('ZADD', X, fmt(r.at + memory), r.id)
    remembered = remembered + 1
  end
  for _, o in ipairs(state.open or {}) do
    if redis.call('HEXISTS', H, 'i:' .. o.id) == 1 then remembered = remembered - 1 end
    local title = type(o.title) == 'string' and o.title or ''
    redis.call('HSET', H, 'i:' .. o.id,
      fmt(o.openedAt) .. '||' .. fmt(o.lastSeen) .. '|' .. title)
    if maxAge > 0 then redis.call('ZADD', X, fmt(o.lastSeen + maxAge), o.id) end
    redis.call('HSET', KO, o.id, scope)
    open = open + 1
  end
  local fields = { 'st', state.status, 'op', open, 'rm', remembered, 'ov', 0 }
  if type(state.activatedAt) == 'number' then
    table.insert(fields, 'aa'); table.insert(fields, fmt(state.activatedAt))
  end
  if type(state.withdrawDueAt) == 'number' then
    table.insert(fields, 'wd'); table.insert(fields, fmt(state.withdrawDueAt))
  end
  redis.call('HSET', H, unpack(fields))
  redis.call('DEL', old)
end

local function decideScope(scope, ev)
  local H, X = P .. 's:' .. scope, P .. 'x:' .. scope
  local v = redis.call('HMGET', H, unpack(FIELDS))
  if v[1] == false then
    upgrade(scope, H, X)
    v = redis.call('HMGET', H, unpack(FIELDS))
  end
  local existed = v[1] ~= false
  local S = { st = v[1] or 'idle', aa = num(v[2]), wd = num(v[3]), op = num(v[4]) or 0,
    rm = num(v[5]) or 0, ov = num(v[6]) or 0, os = num(v[7]), pn = num(v[8]), pa = num(v[9]) }
  local prevActivatedAt = S.aa
  local D = { transition = 'none', reason = 'nothingDue', changed = false, expired = {} }

  local function isOpen(rec)
    return rec ~= nil and rec.o ~= nil and (rec.r == nil or rec.o > rec.r)
  end
  local function getRec(id)
    local raw = redis.call('HGET', H, 'i:' .. id)
    if not raw then return nil end
    local o, r, s, title = string.match(raw, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    return { o = num(o), r = num(r), s = tonumber(s), t = title }
  end
  local function putRec(id, rec)
    redis.call('HSET', H, 'i:' .. id,
      (rec.o and fmt(rec.o) or '') .. '|' .. (rec.r and fmt(rec.r) or '')
      .. '|' .. fmt(rec.s) .. '|' .. (rec.t or ''))
    if isOpen(rec) then
      if maxAge > 0 then
        redis.call('ZADD', X, fmt(rec.s + maxAge), id)
      else
        redis.call('ZREM', X, id)
      end
    else
      redis.call('ZADD', X, fmt(rec.s + memory), id)
    end
  end
  local function delRec(id)
    redis.call('HDEL', H, 'i:' .. id)
    redis.call('ZREM', X, id)
  end
  local function unchanged(reason) D.reason = reason end
  local function changedTo(reason) D.reason = reason; D.changed = true end
  local function emit(transition, reason)
    S.pn, S.pa = 1, now
    D.transition = transition; changedTo(reason)
  end
  local function withdrawn(reason)
    S.st, S.aa, S.wd = 'idle', nil, nil
    emit('withdraw', reason)
  end
  local function withdrawAfterHoldDown(reason)
    if S.st == 'held' then return changedTo('keptByHold') end
    if S.st == 'idle' then return changedTo(reason) end
    local due = math.max((S.aa or now) + minActive, now + withdrawDelay)
    if due <= now then return withdrawn(reason) end
    S.st, S.wd = 'withdrawPending', due
    changedTo('withdrawScheduled')
  end
  local function opened(reason)
    if S.st == 'idle' then
      S.st, S.aa = 'active', now
      emit('activate', reason == 'incidentOpened' and 'activated' or reason)
    elseif S.st == 'withdrawPending' then
      S.st, S.wd = 'active', nil
      changedTo(reason == 'incidentOpened' and 'withdrawCancelled' or reason)
    else
      changedTo(reason)
    end
  end

  local kind = ev.op
  if kind == 'open' then
    local rec = getRec(ev.id)
    if rec and rec.r and ev.at <= rec.r then
      unchanged('resolvedBeforeOpen')
    elseif isOpen(rec) then
      rec.o = math.max(rec.o, ev.at); rec.s = now
      if ev.title ~= '' then rec.t = ev.title end
      putRec(ev.id, rec); changedTo('duplicateOpen')
    elseif S.op >= maxOpen then
      S.ov, S.os = S.ov + 1, now
      opened('openIncidentLimitReached')
    else
      if rec then S.rm = S.rm - 1 end
      putRec(ev.id, { o = ev.at, s = now, t = ev.title })
      S.op = S.op + 1
      redis.call('HSET', KO, ev.id, scope)
      opened('incidentOpened')
    end
  elseif kind == 'update' then
    local rec = getRec(ev.id)
    if isOpen(rec) then
      rec.s = now
      if ev.title ~= '' then rec.t = ev.title end
      putRec(ev.id, rec); changedTo('incidentUpdated')
    else
      unchanged('unknownIncident')
    end
  elseif kind == 'resolve' then
    local rec = getRec(ev.id)
    if isOpen(rec) then
      if ev.at < rec.o then
        rec.r = math.max(rec.r or ev.at, ev.at); putRec(ev.id, rec); changedTo('staleResolve')
      else
        S.op = S.op - 1
        redis.call('HDEL', KO, ev.id)
        if memory > 0 then
          putRec(ev.id, { r = ev.at, s = now }); S.rm = S.rm + 1
        else
          delRec(ev.id)
        end
        if S.op + S.ov > 0 then
          changedTo('incidentResolved')
        else
          withdrawAfterHoldDown('allIncidentsResolved')
        end
      end
    elseif memory > 0 then
      if not rec then S.rm = S.rm + 1 end
      putRec(ev.id, { r = math.max(rec and rec.r or ev.at, ev.at), s = now })
      changedTo('unknownIncident')
    else
      unchanged('unknownIncident')
    end
  elseif kind == 'confirm' then
    local wanted = S.st ~= 'idle'
    if ev.active ~= nil and ev.active == wanted then
      if S.pn then S.pn = nil; changedTo('confirmed') else unchanged('confirmed') end
    elseif not wanted and not S.pn and S.op == 0 and S.rm == 0 then
      unchanged('unknownScope')
    else
      S.pn, S.pa = S.pn or 1, now - interval
      changedTo('confirmMismatch')
    end
  elseif kind == 'tick' then
    local forgotten = 0
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', X, '-inf', fmt(now))) do
      local rec = getRec(id)
      if isOpen(rec) then
        table.insert(D.expired, id)
        S.op = S.op - 1
        redis.call('HDEL', KO, id)
        if memory > 0 then
          putRec(id, { r = math.max(rec.o, now), s = now }); S.rm = S.rm + 1
        else
          delRec(id)
        end
      else
        delRec(id); S.rm = S.rm - 1; forgotten = forgotten + 1
      end
    end
    if S.ov > 0 and maxAge > 0 and S.os and S.os + maxAge <= now then
      S.ov, S.os = 0, nil
      table.insert(D.expired, '(untracked incidents beyond the cap)')
    end
    if #D.expired > 0 and S.op + S.ov == 0 and S.st == 'active' then
      withdrawAfterHoldDown('incidentsExpired')
    elseif S.st == 'withdrawPending' and S.wd and S.wd <= now then
      withdrawn('withdrawDue')
    elseif #D.expired > 0 then
      changedTo('incidentsExpired')
    elseif forgotten > 0 then
      changedTo('nothingDue')
    else
      unchanged('nothingDue')
    end
  elseif kind == 'hold' then
    if S.st == 'held' then unchanged('alreadyHeld')
    elseif S.st == 'idle' then S.st, S.aa = 'held', now; emit('activate', 'held')
    else S.st, S.wd = 'held', nil; changedTo('held') end
  elseif kind == 'release' then
    if S.st ~= 'held' then unchanged('notHeld')
    else
      S.st = 'active'
      if S.op + S.ov > 0 then changedTo('released') else withdrawAfterHoldDown('released') end
    end
  elseif kind == 'reset' then
    D.transition = S.st ~= 'idle' and 'withdraw' or 'none'
    D.reason, D.changed, D.gone = 'reset', true, true
    local fields = redis.call('HKEYS', H)
    for _, field in ipairs(fields) do
      if string.sub(field, 1, 2) == 'i:' then
        local id = string.sub(field, 3)
        if redis.call('HGET', KO, id) == scope then redis.call('HDEL', KO, id) end
      end
    end
  end

  -- Any later event of the scope repairs a lost Activate or Withdraw, as tick does.
  if D.transition == 'none' and kind ~= 'confirm' and kind ~= 'reset' and S.pn
    and now - S.pa >= interval then
    if maxReemits > 0 and S.pn > maxReemits then
      S.pn = nil; D.changed = true
    else
      S.pn, S.pa = S.pn + 1, now
      D.transition = S.st ~= 'idle' and 'activate' or 'withdraw'
      D.reason, D.changed = 'reemit', true
    end
  end

  if not D.gone and S.st == 'idle' and not S.pn and S.op == 0 and S.ov == 0 and S.rm == 0 then
    D.gone = true
  end
  if D.gone then
    if existed or D.changed then
      redis.call('DEL', H, X)
      redis.call('SREM', KS, scope)
      redis.call('ZREM', KD, scope)
    end
  else
    if D.changed then
      local values = { st = S.st, aa = S.aa, wd = S.wd, op = S.op, rm = S.rm, ov = S.ov, os = S.os,
        pn = S.pn, pa = S.pa }
      local set, del = {}, {}
      for _, field in ipairs(FIELDS) do
        local value = values[field]
        if value == nil then table.insert(del, field)
        else
          table.insert(set, field)
          table.insert(set, type(value) == 'number' and fmt(value) or value)
        end
      end
      redis.call('HSET', H, unpack(set))
      if #del > 0 then redis.call('HDEL', H, unpack(del)) end
      redis.call('SADD', KS, scope)
    end
    if existed or D.changed then
      local due = nil
      local first = redis.call('ZRANGE', X, 0, 0, 'WITHSCORES')
      if first[2] then due = tonumber(first[2]) end
      local function earlier(at) if at and (due == nil or at < due) then due = at end end
      if S.ov > 0 and maxAge > 0 and S.os then earlier(S.os + maxAge) end
      earlier(S.wd)
      if S.pn then earlier(S.pa + interval) end
      if due then redis.call('ZADD', KD, fmt(due), scope) else redis.call('ZREM', KD, scope) end
    end
  end

  local result = { scope, D.transition, D.reason, D.gone and '' or S.st, S.op + S.ov, S.ov,
    S.pn and 1 or 0, fmt(S.aa or prevActivatedAt or -1), S.wd and fmt(S.wd) or '' }
  for _, id in ipairs(D.expired) do table.insert(result, id) end
  return result
end

if op == 'tick' then
  local results = {}
  local due = redis.call('ZRANGEBYSCORE', KD, '-inf', fmt(now), 'LIMIT', 0, tonumber(ARGV[16]))
  for _, scope in ipairs(due) do table.insert(results, decideScope(scope, { op = 'tick' })) end
  return results
end

local scope, id = ARGV[3], ARGV[4]
if id ~= '' then scope = redis.call('HGET', KO, id) or scope end
local active = nil
if ARGV[7] == '1' then active = true elseif ARGV[7] == '0' then active = false end
local event = { op = op, id = id, at = tonumber(ARGV[5]), title = ARGV[6], active = active }
return { decideScope(scope, event) }
`;
