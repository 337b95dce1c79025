-- wrk script of bench/care_scale_bench.sh: every request is made by a random
-- logged-in member for one of their groups (the pairs file lists
-- "cookie group_id" lines written by the bench script).
--   wrk ... -s bench/care_scale.lua URL -- timeline PAIRS_FILE
--   wrk ... -s bench/care_scale.lua URL -- group-search PAIRS_FILE WORDS_FILE
--   wrk ... -s bench/care_scale.lua URL -- all-search PAIRS_FILE WORDS_FILE
local mode, pairs_, words

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
  pairs_ = {}
  for _, line in ipairs(lines(args[2])) do
    local cookie, group = line:match("^(%S+) (%d+)$")
    pairs_[#pairs_ + 1] = { cookie = cookie, group = group }
  end
  if args[3] then words = lines(args[3]) end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local p = pairs_[math.random(#pairs_)]
  local path
  if mode == "timeline" then
    path = "/api/v1/care/groups/" .. p.group .. "/posts?limit=30"
  elseif mode == "group-search" then
    path = "/api/v1/care/groups/" .. p.group .. "/posts?limit=30&q=" .. escape(words[math.random(#words)])
  else
    path = "/api/v1/care/search?limit=30&q=" .. escape(words[math.random(#words)])
  end
  return wrk.format("GET", path, { ["Cookie"] = "tsunagu_session=" .. p.cookie })
end
