-- mixed.lua — 90% GET /api/task/, 10% PUT of one of the three seeded tasks with its own
-- values (a write that leaves the list's bytes and size as they were).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local reqs = {}
local seeds = {"1st Task", "2nd Task", "3rd Task"}
function init(args)
  reqs.get = wrk.format("GET", "/api/task/")
  for id = 1, 3 do
    reqs[id] = wrk.format("PUT", "/api/task/" .. id .. "/",
      {["Content-Type"] = "application/json"},
      '{"title":"' .. seeds[id] .. '","priority":0,"completed":false}')
  end
end
function request()
  if math.random(100) <= 10 then
    return reqs[math.random(3)]
  end
  return reqs.get
end
