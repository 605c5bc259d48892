-- POST the same JSON body (BENCH_BODY) on every request: executions through the gateway.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
dofile(os.getenv("BENCH_DIR") .. "/gateway/latency.lua")
