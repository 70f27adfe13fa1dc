-- Headless Neovim driver for tests/editors/test_nvim.py: used as `nvim --headless -u driver.lua`.
-- It loads the plugin from $PONDER_NVIM_PLUGIN exactly as a user would (runtimepath +
-- vim.lsp.enable), follows the steps in the JSON file $PONDER_TEST_SPEC inside the vault,
-- and writes what the editor saw to $PONDER_TEST_OUT. The Python test asserts on it.
local spec = vim.json.decode(table.concat(vim.fn.readfile(vim.env.PONDER_TEST_SPEC), '\n'))
local out = { steps = {}, notifications = {}, progress = {}, errors = {} }

-- The plugin root on 'runtimepath' is all a plugin manager does; Neovim then sources
-- plugin/ and ftdetect/ itself (after this file), and vim.lsp.enable finds lsp/ponder.lua.
vim.opt.runtimepath:prepend(vim.env.PONDER_NVIM_PLUGIN)
vim.opt.swapfile = false
vim.opt.shortmess:append('A')

-- Capture what the plugin tells the user.
vim.notify = function(msg, level)
  table.insert(out.notifications, { msg = msg, level = level })
end
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local v = ev.data.params.value
    table.insert(out.progress, { kind = v.kind, title = v.title, message = v.message, percentage = v.percentage })
  end,
})

vim.lsp.config('ponder', { settings = { ponder = spec.settings } })
vim.lsp.enable('ponder')

local T = tonumber(vim.env.PONDER_TEST_WAIT_MS or '30000')

local function rel(uri)
  local path = vim.uri_to_fname(uri)
  local root = vim.fs.normalize(vim.uv.fs_realpath(spec.vault))
  path = vim.fs.normalize(vim.uv.fs_realpath(path) or path)
  return path:sub(#root + 2)
end

local function open(file)
  local path = spec.vault .. '/' .. file
  local loaded = vim.fn.bufnr(path)
  if loaded ~= -1 and vim.api.nvim_buf_is_loaded(loaded) then
    vim.api.nvim_set_current_buf(loaded) -- keeps unsaved edits of earlier steps
  else
    vim.cmd.edit(vim.fn.fnameescape(path))
  end
  local buf = vim.api.nvim_get_current_buf()
  local ok = vim.wait(T, function()
    return vim.lsp.get_clients({ bufnr = buf, name = 'ponder' })[1] ~= nil
  end, 20)
  assert(ok, 'ponder never attached to ' .. file .. ' (filetype ' .. vim.bo[buf].filetype .. ')')
  return buf, vim.lsp.get_clients({ bufnr = buf, name = 'ponder' })[1]
end

-- Put the cursor on `find` (plus `offset` characters) in 0-based `line`; return LSP params.
local function at(buf, client, step)
  local text = vim.api.nvim_buf_get_lines(buf, step.line, step.line + 1, false)[1] or ''
  local col = 0
  if step.find then
    col = assert(text:find(step.find, 1, true), ('%q not on line %d: %q'):format(step.find, step.line, text)) - 1
    col = vim.str_byteindex(text, 'utf-32', vim.str_utfindex(text, 'utf-32', col) + (step.offset or 0))
  end
  vim.api.nvim_win_set_cursor(0, { step.line + 1, col })
  return vim.lsp.util.make_position_params(0, client.offset_encoding)
end

local function request(client, buf, method, params)
  local res = client:request_sync(method, params, T, buf)
  assert(res, method .. ' timed out')
  assert(not res.err, method .. ': ' .. vim.inspect(res.err))
  return res.result
end

local function diagnostics(buf)
  local got = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'ponder' then
      table.insert(got, { code = d.code, line = d.lnum, col = d.col, message = d.message })
    end
  end
  table.sort(got, function(a, b) return a.line < b.line or (a.line == b.line and a.code < b.code) end)
  return got
end

local function wait_diagnostics(buf, min)
  vim.wait(T, function() return #diagnostics(buf) >= (min or 1) end, 50)
  return diagnostics(buf)
end

local function locations(result)
  local got = {}
  for _, l in ipairs(result and (result[1] and result or { result }) or {}) do
    table.insert(got, { file = rel(l.uri or l.targetUri), line = (l.range or l.targetSelectionRange).start.line })
  end
  return got
end

local function lsp_diagnostics_on(buf, line)
  local got = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = line })) do
    if d.user_data and d.user_data.lsp then
      table.insert(got, d.user_data.lsp)
    end
  end
  return got
end

local actions = {}

function actions.diagnostics(step)
  local buf = open(step.file)
  return { file = step.file, filetype = vim.bo[buf].filetype, diagnostics = wait_diagnostics(buf, step.min) }
end

function actions.hover(step)
  local buf, client = open(step.file)
  local r = request(client, buf, 'textDocument/hover', at(buf, client, step))
  local value = r and r.contents and (r.contents.value or r.contents) or ''
  return { file = step.file, hover = type(value) == 'string' and value or vim.inspect(value) }
end

function actions.definition(step)
  local buf, client = open(step.file)
  return { locations = locations(request(client, buf, 'textDocument/definition', at(buf, client, step))) }
end

function actions.references(step)
  local buf, client = open(step.file)
  local params = at(buf, client, step)
  params.context = { includeDeclaration = false }
  return { locations = locations(request(client, buf, 'textDocument/references', params)) }
end

-- Type `text` on a new last line in insert mode (a real didChange), complete at its end, undo.
function actions.completion(step)
  local buf, client = open(step.file)
  local n = vim.api.nvim_buf_line_count(buf)
  vim.api.nvim_buf_set_lines(buf, n, n, false, { step.text })
  vim.wait(300)
  local line = vim.api.nvim_buf_get_lines(buf, n, n + 1, false)[1]
  -- The cursor sits after the typed text as in insert mode (normal mode cannot put it past
  -- the last character), so the position is built from the line in the client's encoding.
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.position = { line = n, character = vim.str_utfindex(line, client.offset_encoding) }
  params.context = { triggerKind = 2, triggerCharacter = '[' }
  local r = request(client, buf, 'textDocument/completion', params)
  local items = r and (r.items or r) or {}
  local labels = {}
  for _, it in ipairs(items) do
    table.insert(labels, it.label)
  end
  vim.api.nvim_buf_set_lines(buf, n, n + 1, false, {})
  return { count = #labels, labels = labels }
end

function actions.code_actions(step)
  local buf, client = open(step.file)
  wait_diagnostics(buf, 1)
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  local line = vim.api.nvim_buf_get_lines(buf, step.line, step.line + 1, false)[1]
  params.range = { start = { line = step.line, character = 0 }, ['end'] = { line = step.line, character = vim.str_utfindex(line, client.offset_encoding) } }
  params.context = { diagnostics = lsp_diagnostics_on(buf, step.line) }
  local titles = {}
  for _, a in ipairs(request(client, buf, 'textDocument/codeAction', params) or {}) do
    table.insert(titles, { title = a.title, kind = a.kind, preferred = a.isPreferred or false })
  end
  return { file = step.file, line = step.line, sent = #params.context.diagnostics, actions = titles }
end

-- Apply a quick fix the way a user does: vim.lsp.buf.code_action lists, resolves and
-- applies it (`step.title` must name exactly one action, or Neovim would prompt).
function actions.apply_fix(step)
  local buf, client = open(step.file)
  wait_diagnostics(buf, 1)
  local listed = actions.code_actions(step).actions
  local matching = vim.tbl_filter(function(a) return a.title == step.title end, listed)
  assert(#matching == 1, ('%d actions titled %q among %s'):format(#matching, step.title, vim.inspect(listed)))
  local before = vim.api.nvim_buf_get_lines(buf, step.line, step.line + 1, false)[1]
  local tick = vim.b[buf].changedtick
  at(buf, client, step)
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(a) return a.title == step.title end,
  })
  -- A CreateFile may live only in a new buffer until the user saves (Neovim creates the file
  -- on disk only when the server does not say ignoreIfExists).
  local created = step.creates and (spec.vault .. '/' .. step.creates)
  local function new_buffer()
    local b = created and vim.fn.bufnr(created) or -1
    return b ~= -1 and vim.api.nvim_buf_is_loaded(b) and vim.api.nvim_buf_get_lines(b, 0, -1, false) or nil
  end
  vim.wait(T, function()
    return vim.b[buf].changedtick ~= tick or (new_buffer() ~= nil and #table.concat(new_buffer()) > 0)
  end, 20)
  local after = vim.api.nvim_buf_get_lines(buf, step.line, step.line + 1, false)[1]
  -- The server re-checks: the diagnostic the fix addressed must go away.
  local gone = vim.wait(T, function()
    for _, d in ipairs(vim.diagnostic.get(buf, { lnum = step.line })) do
      if d.code == step.code and d.message:find(step.gone, 1, true) then return false end
    end
    return true
  end, 50)
  return { before = before, after = after, modified = vim.bo[buf].modified, diagnostics = diagnostics(buf),
    diagnostic_gone = gone, created = new_buffer() or vim.NIL }
end

function actions.command(step)
  local buf = open(step.file)
  local n = #out.notifications
  vim.cmd(step.command)
  vim.wait(T, function() return #out.notifications > n end, 20)
  local said = {}
  for i = n + 1, #out.notifications do
    table.insert(said, out.notifications[i].msg)
  end
  local client = vim.lsp.get_clients({ bufnr = buf, name = 'ponder' })[1]
  local provider = client.server_capabilities.executeCommandProvider or {}
  return { said = said, server_commands = provider.commands or {}, statusline = require('ponder').statusline(),
    buffer_commands = vim.tbl_keys(vim.api.nvim_buf_get_commands(buf, {})) }
end

local function run()
  for i, step in ipairs(spec.steps) do
    local started = vim.uv.hrtime()
    local ok, res = pcall(actions[step.action], step)
    if not ok then
      table.insert(out.errors, ('step %d (%s): %s'):format(i, step.action, res))
      break -- fail fast: later steps would each wait out their timeouts
    end
    res.action = step.action
    res.ms = math.floor((vim.uv.hrtime() - started) / 1e6)
    out.steps[i] = res
  end
  local client = vim.lsp.get_clients({ name = 'ponder' })[1]
  out.offset_encoding = client and client.offset_encoding
  out.nvim = tostring(vim.version())
end

-- Steps run once startup is over, so plugin/ponder.lua has been sourced as for a user.
vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  nested = true, -- so :edit inside fires BufRead, FileType and the LSP autostart
  callback = function()
    local ok, err = pcall(run)
    if not ok then
      table.insert(out.errors, err)
    end
    vim.fn.writefile({ vim.json.encode(out) }, vim.env.PONDER_TEST_OUT)
    for _, c in ipairs(vim.lsp.get_clients()) do
      c:stop()
    end
    vim.wait(3000, function() return #vim.lsp.get_clients() == 0 end, 50)
    vim.cmd('qa!')
  end,
})
