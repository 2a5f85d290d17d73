-- put.lua — PUT /api/task/{id}/ of a random task of the `dput` dataset (1,000 tasks, all
-- 'bench task', priority 1, not complete) with those same values: every request is a real
-- UPDATE ... RETURNING, and the dataset stays as it was.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local body = '{"title":"bench task","priority":1,"completed":false}'
local headers = {["Content-Type"] = "application/json"}
function request()
  return wrk.format("PUT", "/api/task/" .. math.random(1000) .. "/", headers, body)
end
