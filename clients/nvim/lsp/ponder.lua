-- Ponder's server config for Neovim 0.11+: `vim.lsp.enable('ponder')` starts it for
-- markdown and pseudocode buffers inside a vault. Override any field with
-- `vim.lsp.config('ponder', { ... })`, e.g. `cmd = { '/path/to/venv/bin/ponder', 'serve' }`
-- or `settings = { ponder = { embedding = { enabled = false } } }` (the keys are the
-- server's settings model: `index`, `embedding`, `model`; see `:help ponder-settings`).

---@type vim.lsp.Config
return {
  cmd = { 'ponder', 'serve' },
  filetypes = { 'markdown', 'pseudo' },
  -- The vault: the nearest folder with a ponder.toml, .obsidian or .git; without one, the
  -- folder Neovim was started in when the note is under it (`cd notes && nvim a.md`), else
  -- the note's own folder. The user is told once which folder that is and how to pin it.
  root_dir = function(bufnr, on_dir)
    on_dir(require('ponder').root(bufnr))
  end,
  -- Sent as the `ponder` section of workspace/configuration; empty means the server's
  -- defaults (and the vault's ponder.toml) apply.
  settings = { ponder = vim.empty_dict() },
  -- Ponder diagnoses the whole vault and re-checks notes when others change, which needs
  -- pushed diagnostics (or pulls with workspace/diagnostic/refresh, which Neovim 0.11/0.12
  -- do not advertise). Declining pull makes the server push; ignoring its pull provider
  -- keeps Neovim from also pulling, which would show every diagnostic twice.
  capabilities = { textDocument = { diagnostic = vim.NIL } },
  on_init = function(client)
    client.server_capabilities.diagnosticProvider = nil
  end,
}
