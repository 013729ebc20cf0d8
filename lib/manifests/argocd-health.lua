-- Argo CD health check for daemonless.io/v1 DaemonSets (dlds), from the conditions the controller
-- writes (kstatus-compatible). Plain Lua 5.1, as Argo CD runs it (gopher-lua).
--   observedGeneration behind generation -> Progressing
--   Stalled True                         -> Degraded (ReconcileFailed, ProgressDeadlineExceeded)
--   Progressing with reason Paused       -> Suspended
--   Ready True                           -> Healthy (also Partitioned, with the rest done)
--   anything else                        -> Progressing
local hs = { status = "Progressing", message = "Waiting for the daemonless controller to observe the DaemonSet" }
if obj.status == nil or obj.status.observedGeneration == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for the daemonless controller to observe generation " .. obj.metadata.generation
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type ~= nil then
      conditions[c.type] = c
    end
  end
end

local function describe(c, fallback)
  local text = fallback
  if c.reason ~= nil and c.reason ~= "" then
    text = c.reason
  end
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

-- The rules below read alike on purpose: one condition, one health state each, first match wins,
-- in the order Argo CD users read them (Degraded, Suspended, Healthy, then Progressing).
local stalled = conditions["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local progressing = conditions["Progressing"]
if progressing ~= nil and progressing.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(progressing, "Paused")
  return hs
end

local ready = conditions["Ready"]
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

local function count(field)
  local v = obj.status[field]
  if v == nil then
    return 0
  end
  return v
end
hs.message = "Rollout in progress: " .. count("updatedNumberScheduled") .. " of " .. count("desiredNumberScheduled") ..
  " updated, " .. count("numberAvailable") .. " available"
if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
  hs.message = hs.message .. " (" .. ready.message .. ")"
end
return hs
