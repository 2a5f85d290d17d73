-- wrk script: 90% GET /api/task/1/, 10% POST /api/task/ (make soak and haproxy_drain.t).
local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("POST", "/api/task/", {["Content-Type"] = "application/json"},
                      '{"title":"load ' .. n .. '"}')
  end
  return wrk.format("GET", "/api/task/1/")
end
