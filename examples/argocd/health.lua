-- Argo CD health check for upgrade.flomesh.io/MeshUpgrade: maps kstatus conditions and phase to Argo CD health.
-- Argo CD runs this with the object as the global `obj` (gopher-lua, Lua 5.1: no integer division, no goto).
local hs = {}

local function condition(conditions, wanted)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == wanted then
      return c
    end
  end
  return nil
end

local function says(c)
  if c == nil then
    return ""
  end
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  return reason .. message
end

local spec = obj.spec or {}
local status = obj.status
local metadata = obj.metadata or {}
local suspended = spec.suspend == true

-- Until the operator has seen this generation, any condition describes an older spec.
local generation = metadata.generation
local observed = nil
if status ~= nil then
  observed = status.observedGeneration
end
if observed == nil or observed < 0 or (generation ~= nil and observed < generation) then
  if suspended then
    hs.status = "Suspended"
    hs.message = "Suspended before the operator observed this generation"
    return hs
  end
  hs.status = "Progressing"
  if generation ~= nil then
    hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  else
    hs.message = "Waiting for the operator to observe the upgrade"
  end
  return hs
end

local conditions = status.conditions
local ready = condition(conditions, "Ready")
local reconciling = condition(conditions, "Reconciling")
local stalled = condition(conditions, "Stalled")
local phase = status.phase or ""

-- Stalled is kstatus's only failure signal; a finished rollback is a failure too, even if conditions lag.
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = says(stalled)
  return hs
end
if phase == "Failed" or phase == "RolledBack" then
  hs.status = "Degraded"
  hs.message = "Upgrade " .. phase .. ": " .. (status.message or says(ready))
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = says(ready)
  return hs
end

if suspended or phase == "Suspended" or (reconciling ~= nil and reconciling.reason == "Suspended") then
  hs.status = "Suspended"
  hs.message = says(reconciling)
  if hs.message == "" then
    hs.message = "Upgrade suspended (spec.suspend)"
  end
  return hs
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = says(reconciling)
  if status.progress ~= nil and status.progress ~= "" then
    hs.message = hs.message .. " (" .. phase .. " " .. status.progress .. ")"
  end
  return hs
end

if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = says(ready)
  if hs.message == "" then
    hs.message = "Waiting for the Ready condition"
  end
  return hs
end

-- Ready=False with nothing in progress and nothing stalled: not healthy, and not going to fix itself.
hs.status = "Degraded"
hs.message = says(ready)
return hs
