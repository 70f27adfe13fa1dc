-- Ponder: buffer-local commands when the `ponder` server attaches, and its progress shown
-- through Neovim's LspProgress event. The server config itself lives in lsp/ponder.lua.
if vim.g.loaded_ponder then
  return
end
vim.g.loaded_ponder = true

local group = vim.api.nvim_create_augroup('ponder', { clear = true })

vim.api.nvim_create_autocmd('LspAttach', {
  group = group,
  desc = 'Ponder: buffer-local commands',
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    if client and client.name == 'ponder' then
      require('ponder').attach(client, ev.buf)
    end
  end,
})

vim.api.nvim_create_autocmd('LspProgress', {
  group = group,
  desc = 'Ponder: indexing and model progress',
  callback = function(ev)
    require('ponder').on_progress(ev)
  end,
})
