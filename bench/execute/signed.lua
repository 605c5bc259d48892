-- Direct calls to an agent: each request is pre-signed by the benchmark (the agent refuses a
-- replayed signature), one per line of the file given after "--": timestamp, signature, body.
local requests, count, next_index = {}, 0, 0

init = function(args)
  local hash_id = os.getenv("BENCH_HASH_ID")
  for line in io.lines(args[1]) do
    local timestamp, signature, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
    count = count + 1
    requests[count] = wrk.format("POST", "/execute", {
      ["Content-Type"] = "application/json",
      ["X-Agent-Auth"] = "agent_" .. hash_id,
      ["X-Agora-Timestamp"] = timestamp,
      ["X-Agora-Signature"] = signature,
    }, body)
  end
end

request = function()
  next_index = next_index % count + 1  -- wrapping around would replay: sized so it does not
  return requests[next_index]
end

dofile(os.getenv("BENCH_DIR") .. "/gateway/latency.lua")
