vim.filetype.add({ extension = { pseudo = 'pseudo' } })
