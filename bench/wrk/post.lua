-- post.lua — POST /api/task/ with a small task, as the UI does.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
wrk.method = "POST"
wrk.path = "/api/task/"
wrk.body = '{"title":"bench task","priority":1,"completed":false}'
wrk.headers["Content-Type"] = "application/json"
