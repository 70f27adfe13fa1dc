"""`python -m ponder.lsp [serve] [--tcp HOST:PORT]`: the language server, like `ponder serve`."""

import sys

from ponder.lsp.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(main(argv if argv and argv[0] == "serve" else ["serve", *argv]))
