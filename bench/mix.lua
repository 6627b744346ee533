-- wrk script of the load benchmark (bench/tools.py runs it on request files of bench/scenarios.py): replays a
-- prepared request file and counts what came back.
--
--   wrk -t2 -c32 -d10s -s bench/mix.lua http://127.0.0.1:PORT -- REQUEST_FILE THREADS
--
-- REQUEST_FILE has one request per line, four tab-separated fields: method, path, bearer token ("-" for
-- none), JSON body ("-" for none). Thread k of n sends lines k, k+n, k+2n, ... and starts over at the end,
-- so the threads never share a line (each write in the file is sent once per pass); a file with fewer lines
-- than threads is sent whole by every thread.
-- response() counts status codes and X-Cache values; done() prints one line "BENCH_JSON {...}" with
-- wrk's summary, latency percentiles and the counts of all threads.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

local function split(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, field)
   end
   return fields
end

local function format(line)
   local f = split(line)
   local headers = {}
   if f[3] ~= "-" then
      headers["Authorization"] = "Bearer " .. f[3]
   end
   local body = nil
   if f[4] ~= "-" then
      headers["Content-Type"] = "application/json"
      body = f[4]
   end
   return wrk.format(f[1], f[2], headers, body)
end

function init(args)
   local nthreads = tonumber(args[2])
   local lines = {}
   for line in io.lines(args[1]) do
      table.insert(lines, line)
   end
   assert(#lines > 0, "empty request file")
   requests = {}
   for index, line in ipairs(lines) do
      -- a file shorter than the thread count is sent whole by every thread (fine for reads only)
      if #lines < nthreads or (index - 1) % nthreads == id - 1 then
         table.insert(requests, format(line))
      end
   end
   position = 0
   passes = 0
   statuses = {}
   cache = {}
end

function request()
   position = position + 1
   if position > #requests then
      position = 1
      passes = passes + 1
   end
   return requests[position]
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   local state = headers["x-cache"] or headers["X-Cache"] or "none"
   cache[state] = (cache[state] or 0) + 1
end

local function add(total, part)
   for key, value in pairs(part) do
      total[key] = (total[key] or 0) + value
   end
end

local function object(map)
   local items = {}
   for key, value in pairs(map) do
      table.insert(items, string.format('"%s": %d', key, value))
   end
   return "{" .. table.concat(items, ", ") .. "}"
end

function done(summary, latency, requests)
   local statuses, cache, wrapped = {}, {}, 0
   for _, thread in ipairs(threads) do
      add(statuses, thread:get("statuses"))
      add(cache, thread:get("cache"))
      wrapped = math.max(wrapped, thread:get("passes"))
   end
   local percentiles = {}
   for _, p in ipairs({50, 90, 99, 99.9}) do
      table.insert(percentiles, string.format('"%s": %.1f', p, latency:percentile(p)))
   end
   local errors = summary.errors
   io.write("BENCH_JSON {",
      string.format('"requests": %d, "duration_us": %d, "bytes": %d, ', summary.requests, summary.duration,
         summary.bytes),
      string.format('"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ',
         errors.connect, errors.read, errors.write, errors.status, errors.timeout),
      string.format('"latency_us": {"mean": %.1f, "max": %.1f, %s}, ', latency.mean, latency.max,
         table.concat(percentiles, ", ")),
      string.format('"statuses": %s, "x_cache": %s, "passes": %d}\n', object(statuses), object(cache), wrapped))
end
