-- Ponder for Neovim: buffer-local commands that call the server's workspace/executeCommand
-- commands, and a progress line fed by Neovim's own LspProgress event.
local M = {}

--- The editor commands and the server commands they call.
M.commands = {
  PonderReindex = 'ponder.reindex',
  PonderGenerate = 'ponder.generate',
  PonderExplain = 'ponder.explain',
  PonderStatus = 'ponder.status',
  PonderIgnorePair = 'ponder.ignorePair',
}

--- Languages offered by `:PonderGenerate <Tab>`; any other name is passed through.
M.languages = { 'python', 'typescript', 'javascript', 'go', 'rust', 'java', 'kotlin', 'c', 'cpp', 'csharp', 'lua', 'bash' }

local function notify(msg, level)
  vim.notify('Ponder: ' .. msg, level or vim.log.levels.INFO)
end

--- Files or folders that mark a vault's root, nearest first.
M.root_markers = { 'ponder.toml', '.obsidian', '.git' }

local told_roots = {}

--- The vault for buffer `bufnr`: the nearest folder holding a root marker; else the working
--- directory when the note is under it (but never $HOME or /, which would index everything);
--- else the note's folder. Without a marker the user is told once per folder.
function M.root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local marked = vim.fs.root(bufnr, M.root_markers)
  if marked then
    return marked
  end
  local file = vim.fs.normalize(vim.fn.fnamemodify(name, ':p'))
  local dir = vim.fs.dirname(file)
  local cwd = vim.fs.normalize(vim.fn.getcwd())
  local home = vim.fs.normalize(vim.uv.os_homedir() or '')
  local root = dir
  if cwd ~= '/' and cwd ~= home and vim.startswith(file, cwd .. '/') then
    root = cwd
  end
  if not told_roots[root] then
    told_roots[root] = true
    vim.schedule(function()
      notify(('no ponder.toml, .obsidian or .git above %s: using %s as the vault. To pin it, add a ponder.toml '
        .. "(or .git) there, or set root_dir in vim.lsp.config('ponder', { ... })"):format(vim.fn.fnamemodify(file, ':t'), root))
    end)
  end
  return root
end

--- The Ponder client attached to `bufnr`, if any.
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = 'ponder' })[1]
end

--- Whether the server advertises `command` (servers grow commands over time).
function M.supports(client, command)
  local provider = client.server_capabilities.executeCommandProvider
  return type(provider) == 'table' and vim.list_contains(provider.commands or {}, command)
end

--- The argument every Ponder command receives: where the user is.
--- `{ uri, position, range?, language?, diagnostic? }`, positions in the client's encoding.
function M.here(client, bufnr, extra)
  local win = vim.fn.bufwinid(bufnr)
  local params = vim.lsp.util.make_position_params(win ~= -1 and win or 0, client.offset_encoding)
  return vim.tbl_extend('force', { uri = params.textDocument.uri, position = params.position }, extra or {})
end

--- Call server command `command` with `arguments`; `on_result(result)` on success.
--- An unsupported command or a server error becomes a message, never a Lua error.
function M.exec(bufnr, command, arguments, on_result)
  local client = M.client(bufnr)
  if not client then
    notify('no Ponder server is attached to this buffer', vim.log.levels.WARN)
    return
  end
  if not M.supports(client, command) then
    notify(('the server does not support `%s` yet (update ponder)'):format(command), vim.log.levels.WARN)
    return
  end
  client:exec_cmd({ title = command, command = command, arguments = arguments }, { bufnr = bufnr }, function(err, result)
    if err then
      notify(('%s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif on_result then
      on_result(result)
    end
  end)
end

--- Show a server answer: markdown text in a float, an error the server has not already shown
--- (window/showMessage; `shown`) as a warning, anything else as a message.
local function show(result, fallback)
  if type(result) == 'table' and type(result.error) == 'string' then
    if result.shown ~= true then
      notify(result.error, vim.log.levels.WARN)
    end
    return
  end
  if type(result) == 'table' and type(result.markdown) == 'string' then
    result = result.markdown
  end
  if type(result) == 'string' and result ~= '' then
    vim.lsp.util.open_floating_preview(vim.split(result, '\n'), 'markdown', { border = 'rounded', focus_id = 'ponder' })
  elseif result ~= nil and result ~= vim.NIL then
    notify(type(result) == 'table' and vim.inspect(result) or tostring(result))
  elseif fallback then
    notify(fallback)
  end
end

local function format_status(s)
  if type(s) ~= 'table' or s.vault == nil or s.vault == vim.NIL then
    return 'no vault open yet'
  end
  local embedding = s.embedding
  if type(embedding) == 'table' then
    embedding = embedding.state or vim.inspect(embedding)
  end
  if embedding ~= 'off' then  -- counts only when embeddings are on: "idle (0/146)" read as stuck
    embedding = ('%s (%s/%s chunks)'):format(tostring(embedding), tostring(s.embedded), tostring(s.chunks))
  end
  return ('%s notes in %s; indexed: %s; embeddings: %s; %s'):format(
    tostring(s.notes), s.vault, tostring(s.indexed), embedding, M.statusline() ~= '' and M.statusline() or 'idle')
end

--- The diagnostic under the cursor that a pair can be ignored for (a conflict between notes).
local function pair_under_cursor(bufnr)
  local lnum = vim.api.nvim_win_get_cursor(0)[1] - 1
  for _, d in ipairs(vim.diagnostic.get(bufnr, { lnum = lnum })) do
    local lsp = d.user_data and d.user_data.lsp
    if lsp and lsp.source == 'ponder' and (lsp.code == 'fact-conflict' or lsp.code == 'contradiction') then
      return lsp
    end
  end
end

--- Create the buffer-local commands for a buffer the Ponder client attached to.
function M.attach(client, bufnr)
  -- Completion items are snippets whose text is the whole name and the closing `]]`
  -- (`[[Внутренние ссылки]]`). The menu inserts the label; accepting an item (<C-y>) then
  -- applies the item's edit only where vim.lsp.completion is enabled for the buffer, also for
  -- <C-x><C-o>. No autotrigger: typing stays as the user set it up.
  -- `vim.g.ponder_lsp_completion = false` leaves completion to the user's own setup.
  if vim.g.ponder_lsp_completion ~= false and vim.lsp.completion and vim.lsp.completion.enable then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = false })
  end
  local function cmd(name, fn, opts)
    vim.api.nvim_buf_create_user_command(bufnr, name, fn, vim.tbl_extend('force', { desc = 'Ponder: ' .. M.commands[name] }, opts or {}))
  end
  cmd('PonderReindex', function()
    M.exec(bufnr, 'ponder.reindex', {}, function(r)
      notify(type(r) == 'table' and r.started == false and 'the vault is not open yet' or 'reindexing the vault')
    end)
  end)
  cmd('PonderStatus', function()
    M.exec(bufnr, 'ponder.status', {}, function(r)
      M.last_status = r
      notify(format_status(r))
    end)
  end)
  cmd('PonderGenerate', function(o)
    local language = o.args ~= '' and o.args or nil
    local args = M.here(client, bufnr, { language = language })
    if o.range > 0 then
      local last = vim.api.nvim_buf_get_lines(bufnr, o.line2 - 1, o.line2, false)[1] or ''
      args.range = { start = { line = o.line1 - 1, character = 0 }, ['end'] = { line = o.line2 - 1, character = #last } }
    end
    M.exec(bufnr, 'ponder.generate', { args }, function(r)
      show(r, 'generation started')
    end)
  end, { nargs = '?', range = true, complete = function(lead)
    return vim.tbl_filter(function(l) return vim.startswith(l, lead) end, M.languages)
  end })
  cmd('PonderExplain', function()
    M.exec(bufnr, 'ponder.explain', { M.here(client, bufnr) }, function(r)
      show(r, 'explanation requested')
    end)
  end)
  cmd('PonderIgnorePair', function()
    local d = pair_under_cursor(bufnr)
    if not d then
      notify('no fact conflict or contradiction under the cursor', vim.log.levels.WARN)
      return
    end
    M.exec(bufnr, 'ponder.ignorePair', { M.here(client, bufnr, { diagnostic = d }) }, function(r)
      show(r, 'pair ignored')
    end)
  end)
end

-- Progress: the server's $/progress (indexing, embedding, model loading, generation) as
-- Neovim delivers it through LspProgress, kept per token.
M.progress = {}

--- A short line for a statusline: `ponder: indexing 45%`, or '' when idle.
function M.statusline()
  local parts = {}
  for _, p in pairs(M.progress) do
    local s = p.title or 'working'
    if p.percentage then
      s = ('%s %d%%'):format(s, p.percentage)
    end
    if p.message then
      s = s .. ' ' .. p.message
    end
    parts[#parts + 1] = s
  end
  table.sort(parts)
  return table.concat(parts, ', ')
end

function M.on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= 'ponder' then
    return
  end
  local token, value = ev.data.params.token, ev.data.params.value
  if type(value) ~= 'table' then
    return
  end
  local p = M.progress[token] or {}
  if value.kind == 'end' then
    M.progress[token] = nil
  else
    p.title = value.title or p.title
    p.message = value.message or p.message
    p.percentage = value.percentage or p.percentage
    M.progress[token] = p
  end
  if vim.g.ponder_progress ~= false then
    local line = value.kind == 'end' and ((p.title or 'done') .. ': ' .. (value.message or 'done')) or M.statusline()
    vim.api.nvim_echo({ { line, 'Comment' } }, false, {})
  end
  vim.cmd.redrawstatus({ bang = true })
end

return M
