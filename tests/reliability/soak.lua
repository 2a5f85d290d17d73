-- wrk script for make soak: every kind of request, the table kept the same size.
-- Of every 20 requests of a wrk thread: 1 POST, 1 DELETE of a task this thread created, 1 PUT of
-- task 1, 1 GET of the list and 16 GETs of task 1. A created id is taken from the POST's answer
-- (the only answer with an id other than 1), so each is deleted once and a DELETE never meets a
-- missing task; until this thread has one, the DELETE's turn is a GET.
local n = 0
local created = {}
local json = {["Content-Type"] = "application/json"}

request = function()
  n = n + 1
  local k = n % 20
  if k == 0 then
    return wrk.format("POST", "/api/task/", json, '{"title":"soak ' .. n .. '"}')
  elseif k == 5 then
    return wrk.format("PUT", "/api/task/1/", json,
                      '{"title":"soak put","priority":' .. (n % 10) .. ',"complete":false}')
  elseif k == 10 and #created > 0 then
    return wrk.format("DELETE", "/api/task/" .. table.remove(created, 1) .. "/")
  elseif k == 15 then
    return wrk.format("GET", "/api/task/")
  end
  return wrk.format("GET", "/api/task/1/")
end

response = function(status, headers, body)
  local id = status == 200 and body:match('^{"id":(%d+),')
  if id and id ~= "1" then
    created[#created + 1] = id
  end
end
