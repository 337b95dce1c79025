-- wrk script of bench/clinical_scale_bench.sh: every request names a random
-- patient (and lab code) or a random Observation id from the lists that
-- bench/clinical_scale_load wrote.
--   wrk ... -s bench/clinical_scale.lua URL -- timeline PATIENTS_FILE
--   wrk ... -s bench/clinical_scale.lua URL -- search PATIENTS_FILE CODES_FILE
--   wrk ... -s bench/clinical_scale.lua URL -- read IDS_FILE
local mode, keys, codes

local function lines(path)
  local t = {}
  for line in io.lines(path) do
    if line ~= "" then t[#t + 1] = line end
  end
  return t
end

local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  mode = args[1]
  keys = lines(args[2])
  if mode == "search" then codes = lines(args[3]) end
  -- Threads start within the same second: seed from the table address too.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local key = keys[math.random(#keys)]
  local path
  if mode == "timeline" then
    path = "/api/v1/patients/" .. key .. "/timeline?limit=50"
  elseif mode == "search" then
    path = "/fhir/Observation?patient=" .. key .. "&code=" .. escape(codes[math.random(#codes)])
  else
    path = "/fhir/Observation/" .. key
  end
  return wrk.format("GET", path)
end
