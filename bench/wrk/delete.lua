-- delete.lua — DELETE /api/task/{id}/ of tasks that exist: the `ddel` dataset is refilled with
-- ids 1..N before every run, and wrk's threads take turns (thread k of T deletes k, k+T, ...).
-- A 404 (the dataset ran out) counts as an error.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local started = 0
function setup(thread)
  started = started + 1
  thread:set("first_id", started)
end
function init(args)
  step = tonumber(os.getenv("BENCH_WRK_THREADS"))
  next_id = first_id
end
function request()
  local id = next_id
  next_id = next_id + step
  return wrk.format("DELETE", "/api/task/" .. id .. "/")
end
