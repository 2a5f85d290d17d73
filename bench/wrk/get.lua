-- get.lua — GET the URL wrk was given (list, one task, static file).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
