#!/usr/bin/env bash
# Screenshot for the README: nvim in tmux on the example vault, with Ponder's diagnostics and
# a hover on a wikilink. Needs tmux, aha and chromium (Debian packages).
#   bash tests/editors/nvim/screenshot.sh OUT.png
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
out=$(realpath -m "${1:-$repo/clients/screenshots/nvim.png}")
work=$(mktemp -d)
trap 'tmux kill-session -t ponder-shot 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r "$repo/examples/vault" "$work/vault" && rm -rf "$work/vault/.ponder"
cat > "$work/init.lua" <<LUA
vim.opt.runtimepath:prepend('$repo/clients/nvim')
vim.opt.termguicolors = true
vim.opt.number = true
vim.opt.signcolumn = 'yes'
vim.diagnostic.config({ virtual_text = true, signs = true })
vim.lsp.config('ponder', { settings = { ponder = { embedding = { enabled = false } } } })
vim.lsp.enable('ponder')
vim.api.nvim_create_autocmd('VimEnter', { nested = true, callback = function()
  vim.cmd.edit('Главная.md')
  vim.wait(20000, function() return #vim.diagnostic.get(0) >= 2 end, 50)
  -- a wikilink near the bottom, so the hover opens above the broken links' diagnostics
  local line = vim.api.nvim_buf_get_lines(0, 15, 16, false)[1]
  vim.api.nvim_win_set_cursor(0, { 16, line:find('[[заметки/2025-01-14]]', 1, true) + 3 })
  vim.lsp.buf.hover({ border = 'rounded', max_width = 80, max_height = 10 })
end })
LUA
cd "$work/vault"
tmux new-session -d -s ponder-shot -x 132 -y 24 \
  "env PATH='$repo/.venv/bin:$PATH' TERM=xterm-256color '$repo/.venv/bin/nvim' -u '$work/init.lua' -i NONE -n"
sleep "${PONDER_SHOT_WAIT:-6}"
tmux capture-pane -t ponder-shot -e -p > "$work/screen.ansi"
aha --black --title "nvim — Ponder" < "$work/screen.ansi" \
  | sed 's|<pre>|<pre style="font-family: DejaVu Sans Mono, monospace; font-size: 15px; line-height: 1.25; margin: 8px">|' > "$work/screen.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1205,500 \
  --screenshot="$out" "file://$work/screen.html" >/dev/null 2>&1
echo "$out"
